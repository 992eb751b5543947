// GPU offload of a model's layers: the request (`gpuLayers: "auto" | "max" | n` and what "auto" fits for), the
// fit (llama.cpp common's common_fit_params, which measures the model and a context against free device memory),
// and what a load did (layers offloaded, weights per device), for Model.info(). On a CPU build there is no GPU
// device: every request loads on the CPU and reports 0 layers.
#pragma once

#include "llama.h"

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace effect_llama {

struct gpu_request {
    enum class mode { AUTO, MAX, COUNT };
    mode kind = mode::AUTO;
    int32_t layers = -1;       // COUNT: offload this many (llama.cpp clamps to the model's layers + output)
    // What "auto" fits for: a context of this size and these sequences; 0 = the Context default (min(4096, trained)).
    uint32_t fit_context = 0;
    uint32_t fit_sequences = 1;
    uint32_t fit_batch = 512;
    uint32_t fit_ubatch = 512;
    int64_t fit_margin = -1;   // device memory to leave free, in bytes; -1 = llama.cpp's default (1 GiB)
};

// What loading did on the GPU side.
struct gpu_offload {
    int32_t offloaded = 0;             // layers on a GPU ("offloaded N/M layers to GPU")
    int32_t offloadable = 0;           // M: the model's layers + the output layer
    bool fit_ran = false;
    std::string fit_status;            // "fits" (all layers), "reduced" (fewer layers), "failed", "error", or "skipped"
    int32_t fit_layers = -1;           // the n_gpu_layers the fit chose (-1 = all)
    uint32_t fit_context = 0;
    int64_t fit_margin = 0;
    std::string warning;               // e.g. a GPU build that found no GPU device
};

// Reads `gpuLayers` and `gpuFit` of the Model options; throws an INVALID_ARGUMENT TypeError. JS thread.
gpu_request read_gpu_request(Napi::Env env, const Napi::Object & options);

// True when ggml has a GPU (or integrated GPU) device: a GPU build that found one. Any thread.
bool gpu_device_present();

// Sets params.n_gpu_layers (and, when the fit splits a model, tensor_split / buffer overrides kept in `scratch`)
// for the request; "auto" runs the fit. Call on a worker thread, before llama_model_load_from_file.
struct gpu_fit_scratch {
    std::vector<float> tensor_split;
    std::vector<llama_model_tensor_buft_override> overrides;
};
gpu_offload apply_gpu_request(const std::string & path, llama_model_params & params, const gpu_request & request,
                              gpu_fit_scratch & scratch);

// Fills in the offloaded layers from llama.cpp's load log.
void read_offload_log(const std::vector<std::string> & lines, gpu_offload & offload);

// The part of Model.info() about the GPU: gpuLayers, offloadableLayers, gpuLayersRequested, gpuFit, devices,
// deviceMemory. `buffers` are the weights' buffers by type name. JS thread.
struct model_buffer;
void set_gpu_info(Napi::Env env, Napi::Object & info, const gpu_request & request, const gpu_offload & offload,
                  const std::vector<model_buffer> & buffers);

// Warnings about the compiled-in GPU backend (a GPU build without a GPU device), for systemInfo(). Any thread.
std::vector<std::string> gpu_warnings();

} // namespace effect_llama
