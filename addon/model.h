// Model: one loaded llama_model. JS owns the lifetime through dispose(); contexts hold a shared_ptr to the
// model state, so disposing a model that a context still uses frees the weights once that context is gone.
// Thread rules: every method is called on the JS thread; load, tokenize, detokenize, chat apply/parse and
// dispose run their work on libuv worker threads. abortLoad() is a relaxed atomic store, safe at any time.
#pragma once

#include "gpu-offload.h"
#include "llama-cpp.h"

#include <napi.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct common_chat_templates;

namespace effect_llama {

struct lora_adapter; // lora.h
struct projector;    // vision.h

struct model_options {
    gpu_request gpu;         // gpuLayers: "auto" (default), "max" or n; a CPU build loads everything on the CPU
    bool use_mmap = true;
    bool use_mlock = false;
    bool vocab_only = false;
    bool check_tensors = false;
    bool extra_buffer_types = true; // ggml's extra CPU buffer types (AMX, weight repacking); see extra_buffer_types_allowed
    std::string projector_path;     // a multimodal projector (mmproj GGUF) loaded with the model (vision.h)
};

// One buffer of model weights, by buffer type ("CPU_Mapped", "CPU_REPACK", "AMX", "CUDA0", ...).
struct model_buffer {
    std::string type;
    double bytes;
};

struct model_state {
    llama_model_ptr model;
    model_options options;
    std::string path;
    std::vector<model_buffer> buffers;       // where the weights went, as llama.cpp reported it while loading
    gpu_offload gpu;                         // layers offloaded, what "auto" fitted (gpu-offload.h)
    std::mutex chat_mutex;                   // guards the lazily built chat templates
    std::shared_ptr<common_chat_templates> chat_templates;
    std::string chat_template_override;      // the override the templates were built with
    std::shared_ptr<projector> vision;       // set when a projector was loaded (vision.h)
    uint64_t fingerprint = 0;                // identifies the weights in saved KV states (state.cpp)

    const llama_vocab * vocab() const { return llama_model_get_vocab(model.get()); }
};

// False when EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0: the escape hatch that loads every model without ggml's extra CPU
// buffer types (no AMX kernels, no weight repacking), with no rebuild. Any thread.
bool extra_buffer_types_allowed();

class Model : public Napi::ObjectWrap<Model> {
public:
    static void Init(Napi::Env env, Napi::Object exports);
    static bool IsInstance(const Napi::Value & value);

    explicit Model(const Napi::CallbackInfo & info); // (path, options)

    // The loaded state, or a DISPOSED / not-loaded error thrown as a JS exception. JS thread.
    std::shared_ptr<model_state> loaded_state(Napi::Env env, const char * method) const;
    // A loaded LoRA adapter by id, or null. JS thread.
    std::shared_ptr<lora_adapter> adapter(uint32_t id) const;

private:
    Napi::Value Load(const Napi::CallbackInfo & info);
    Napi::Value AbortLoad(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value ApplyChat(const Napi::CallbackInfo & info);   // chat.cpp
    Napi::Value ParseChat(const Napi::CallbackInfo & info);   // chat.cpp
    Napi::Value LoadLora(const Napi::CallbackInfo & info);    // lora.cpp: loadLora(path) -> Promise<id>
    Napi::Value UnloadLora(const Napi::CallbackInfo & info);  // lora.cpp: unloadLora(id) -> boolean
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value IsDisposed(const Napi::CallbackInfo & info);

    std::string path;
    model_options options;
    std::shared_ptr<model_state> state;  // set when loaded, reset on dispose
    std::shared_ptr<std::atomic<bool>> abort_flag = std::make_shared<std::atomic<bool>>(false);
    bool loading = false;
    bool disposed = false;
    std::map<uint32_t, std::shared_ptr<lora_adapter>> adapters; // lora.cpp
    uint32_t next_adapter = 1;
};

} // namespace effect_llama
