#include "gpu-offload.h"

#include "convert.h"
#include "errors.h"
#include "fit.h" // llama.cpp common/fit.h
#include "ggml-backend.h"
#include "model.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <regex>

namespace effect_llama {

namespace {

// common_fit_params swaps llama.cpp's process-wide logger while it measures and is not thread safe: one at a time.
std::mutex fit_mutex;

bool is_gpu(ggml_backend_dev_t dev) {
    enum ggml_backend_dev_type type = ggml_backend_dev_type(dev);
    return type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU;
}

// A warning through llama.cpp's logger, so it reaches the JS logger like llama.cpp's own. Any thread.
void log_warning(const std::string & text) {
    ggml_log_callback callback = nullptr;
    void * user_data = nullptr;
    llama_log_get(&callback, &user_data);
    if (callback != nullptr) {
        callback(GGML_LOG_LEVEL_WARN, (text + "\n").c_str(), user_data);
    }
}

std::string no_device_warning() {
    const std::string gpu = EFFECT_LLAMA_GPU;
    if (gpu == "cpu" || gpu_device_present()) {
        return "";
    }
    std::string hint = gpu == "vulkan" ? " (a software device such as lavapipe is used only when GGML_VK_VISIBLE_DEVICES names it)"
                                       : "";
    return "effect-llama: this addon is built with " + gpu + ", but no " + gpu + " device was found" + hint +
           ": models run on the CPU";
}

} // namespace

gpu_request read_gpu_request(Napi::Env env, const Napi::Object & o) {
    gpu_request r;
    Napi::Value v = o.Get("gpuLayers");
    if (is_missing(v)) {
        r.kind = gpu_request::mode::AUTO;
    } else if (v.IsString()) {
        std::string s = v.As<Napi::String>().Utf8Value();
        if (s == "auto") {
            r.kind = gpu_request::mode::AUTO;
        } else if (s == "max") {
            r.kind = gpu_request::mode::MAX;
        } else {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "gpuLayers must be \"auto\", \"max\" or a number, not \"" + s + "\"");
        }
    } else {
        // A number: -1 (or any negative) means all layers, as in llama.cpp; n offloads n.
        int64_t n = get_int(o, "gpuLayers", -1, -1, 100000);
        r.kind = n < 0 ? gpu_request::mode::MAX : gpu_request::mode::COUNT;
        r.layers = static_cast<int32_t>(n);
    }
    Napi::Value fit = o.Get("gpuFit");
    if (!is_missing(fit)) {
        if (!fit.IsObject()) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "gpuFit must be an object");
        }
        Napi::Object f = fit.As<Napi::Object>();
        r.fit_context = static_cast<uint32_t>(get_int(f, "contextSize", 0, 0, 1 << 24));
        r.fit_sequences = static_cast<uint32_t>(get_int(f, "sequences", 1, 1, static_cast<int64_t>(llama_max_parallel_sequences())));
        r.fit_batch = static_cast<uint32_t>(get_int(f, "batchSize", 512, 1, 1 << 20));
        r.fit_ubatch = static_cast<uint32_t>(get_int(f, "ubatchSize", std::min<uint32_t>(512, r.fit_batch), 1, r.fit_batch));
        r.fit_margin = get_int(f, "marginBytes", -1, -1, int64_t(1) << 50);
    }
    return r;
}

bool gpu_device_present() {
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        if (is_gpu(ggml_backend_dev_get(i))) {
            return true;
        }
    }
    return false;
}

gpu_offload apply_gpu_request(const std::string & path, llama_model_params & params, const gpu_request & request,
                              gpu_fit_scratch & scratch) {
    gpu_offload result;
    result.warning = no_device_warning();
    if (!result.warning.empty() && !(request.kind == gpu_request::mode::COUNT && request.layers == 0)) {
        log_warning(result.warning);
    }
    switch (request.kind) {
        case gpu_request::mode::MAX:
            params.n_gpu_layers = -1;
            return result;
        case gpu_request::mode::COUNT:
            params.n_gpu_layers = request.layers;
            return result;
        case gpu_request::mode::AUTO:
            break;
    }
    params.n_gpu_layers = -1; // llama.cpp's default: the fit changes only parameters left at their defaults
    if (!gpu_device_present() || params.vocab_only) {
        result.fit_status = "skipped";
        return result;
    }
    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx = request.fit_context;
    cparams.n_seq_max = request.fit_sequences;
    cparams.n_batch = request.fit_batch;
    cparams.n_ubatch = request.fit_ubatch;
    std::vector<size_t> margins(llama_max_devices(), 1024ull * 1024 * 1024); // common_params' default target
    if (request.fit_margin >= 0) {
        std::fill(margins.begin(), margins.end(), static_cast<size_t>(request.fit_margin));
    }
    scratch.tensor_split.assign(llama_max_devices(), 0.0f);
    scratch.overrides.assign(llama_max_tensor_buft_overrides(), llama_model_tensor_buft_override{nullptr, nullptr});
    if (cparams.n_ctx == 0) {
        // The Context default; measuring needs the trained size, which the fit reads from the file itself: 0 would
        // make it pick and shrink a context of its own, which the Context created later would not have.
        cparams.n_ctx = 4096;
    }
    common_params_fit_status status;
    {
        std::lock_guard<std::mutex> lock(fit_mutex);
        status = common_fit_params(path.c_str(), &params, &cparams, scratch.tensor_split.data(), scratch.overrides.data(),
                                   margins.data(), cparams.n_ctx, nullptr, GGML_LOG_LEVEL_ERROR);
    }
    result.fit_ran = true;
    result.fit_context = cparams.n_ctx;
    result.fit_margin = static_cast<int64_t>(margins[0]);
    result.fit_layers = params.n_gpu_layers;
    if (status == COMMON_PARAMS_FIT_STATUS_SUCCESS && params.n_gpu_layers != 0) {
        result.fit_status = params.n_gpu_layers < 0 ? "fits" : "reduced";
    } else {
        // Nothing fits (the fit failed, or it succeeded with no layer on the device), or measuring failed: load on
        // the CPU rather than fail to allocate on the device.
        result.fit_status = status == COMMON_PARAMS_FIT_STATUS_ERROR ? "error" : "failed";
        params.n_gpu_layers = 0;
        params.tensor_split = nullptr;
        params.tensor_buft_overrides = nullptr;
        result.fit_layers = 0;
        log_warning("effect-llama: gpuLayers \"auto\": the model does not fit the free device memory with a context of " +
                    std::to_string(cparams.n_ctx) + " tokens; loading it on the CPU");
    }
    return result;
}

void read_offload_log(const std::vector<std::string> & lines, gpu_offload & offload) {
    static const std::regex offloaded_re(R"(offloaded (\d+)/(\d+) layers to GPU)");
    std::smatch m;
    for (const std::string & line : lines) {
        if (std::regex_search(line, m, offloaded_re)) {
            offload.offloaded = std::atoi(m[1].str().c_str());
            offload.offloadable = std::atoi(m[2].str().c_str());
        }
    }
}

void set_gpu_info(Napi::Env env, Napi::Object & o, const gpu_request & request, const gpu_offload & offload,
                  const std::vector<model_buffer> & buffers) {
    o.Set("offloadableLayers", offload.offloadable);
    switch (request.kind) {
        case gpu_request::mode::AUTO:  o.Set("gpuLayersRequested", "auto"); break;
        case gpu_request::mode::MAX:   o.Set("gpuLayersRequested", "max"); break;
        case gpu_request::mode::COUNT: o.Set("gpuLayersRequested", request.layers); break;
    }
    if (offload.fit_ran) {
        Napi::Object fit = Napi::Object::New(env);
        fit.Set("status", offload.fit_status);
        fit.Set("layers", offload.fit_layers);
        fit.Set("contextSize", offload.fit_context);
        fit.Set("marginBytes", static_cast<double>(offload.fit_margin));
        o.Set("gpuFit", fit);
    } else {
        o.Set("gpuFit", env.Null());
    }
    // Weights per GPU device: the model buffers of the device's own buffer type ("Vulkan0", "CUDA0", "MTL0").
    Napi::Array names = Napi::Array::New(env);
    Napi::Array memory = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (!is_gpu(dev)) {
            continue;
        }
        const std::string buft = ggml_backend_buft_name(ggml_backend_dev_buffer_type(dev));
        double bytes = 0;
        for (const model_buffer & b : buffers) {
            if (b.type == buft) {
                bytes += b.bytes;
            }
        }
        if (bytes == 0) {
            continue;
        }
        size_t free = 0;
        size_t total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        Napi::Object d = Napi::Object::New(env);
        d.Set("device", ggml_backend_dev_name(dev));
        d.Set("description", ggml_backend_dev_description(dev));
        d.Set("modelBytes", bytes);
        d.Set("memoryFree", static_cast<double>(free));
        d.Set("memoryTotal", static_cast<double>(total));
        names.Set(names.Length(), ggml_backend_dev_name(dev));
        memory.Set(memory.Length(), d);
    }
    // llama.cpp logs the layers it meant to offload; with no weights on any GPU none were.
    o.Set("gpuLayers", names.Length() == 0 ? 0 : offload.offloaded);
    o.Set("devices", names);
    o.Set("deviceMemory", memory);
    if (!offload.warning.empty()) {
        o.Set("gpuWarning", offload.warning);
    }
}

std::vector<std::string> gpu_warnings() {
    std::vector<std::string> warnings;
    std::string w = no_device_warning();
    if (!w.empty()) {
        warnings.push_back(w);
    }
    return warnings;
}

} // namespace effect_llama
