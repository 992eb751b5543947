#include "system-info.h"

#include "build-info.h"
#include "common.h"
#include "ggml-backend.h"
#include "llama.h"
#include "compute-budget.h"
#include "gpu-offload.h"
#include "model.h"

#include <filesystem>
#include <fstream>
#include <thread>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace effect_llama {

namespace {

// How the CPU backend was built: "native" (-march=native, this machine's CPU), "portable" (any CPU of the
// architecture), or for a prebuilt addon the variant ggml picked at load ("haswell", "icelake", ...).
std::string cpu_variant() {
    const std::string build = EFFECT_LLAMA_CPU_BUILD;
    if (build != "variants") {
        return build;
    }
    std::ifstream maps("/proc/self/maps");
    std::string line;
    const std::string marker = "libggml-cpu-";
    while (std::getline(maps, line)) {
        size_t at = line.rfind(marker);
        if (at != std::string::npos) {
            std::string name = line.substr(at + marker.size());
            return name.substr(0, name.find(".so"));
        }
    }
    return "unknown";
}

const char * device_type_name(enum ggml_backend_dev_type type) {
    switch (type) {
        case GGML_BACKEND_DEVICE_TYPE_CPU:   return "cpu";
        case GGML_BACKEND_DEVICE_TYPE_GPU:   return "gpu";
        case GGML_BACKEND_DEVICE_TYPE_IGPU:  return "igpu";
        case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
        default:                             return "other";
    }
}

Napi::Object llama_cpp_info(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("commit", EFFECT_LLAMA_COMMIT);
    o.Set("tag", EFFECT_LLAMA_TAG);
    o.Set("buildNumber", llama_build_number());
    o.Set("buildCommit", llama_commit());
    o.Set("compiler", llama_compiler());
    o.Set("buildTarget", llama_build_target());
    return o;
}

// Each backend registry may export a feature list (the CPU one lists SSE3, AVX2, ...).
Napi::Array backends_info(Napi::Env env, Napi::Object & cpu_features) {
    Napi::Array backends = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
        ggml_backend_reg_t reg = ggml_backend_reg_get(i);
        const char * name = ggml_backend_reg_name(reg);
        backends.Set(static_cast<uint32_t>(i), name);
        auto get_features = reinterpret_cast<ggml_backend_get_features_t>(
            ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
        if (get_features == nullptr || std::string(name) != "CPU") {
            continue;
        }
        for (ggml_backend_feature * f = get_features(reg); f != nullptr && f->name != nullptr; f++) {
            cpu_features.Set(f->name, f->value);
        }
    }
    return backends;
}

Napi::Array devices_info(Napi::Env env) {
    Napi::Array devices = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        size_t free = 0;
        size_t total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        Napi::Object d = Napi::Object::New(env);
        d.Set("name", ggml_backend_dev_name(dev));
        d.Set("description", ggml_backend_dev_description(dev));
        d.Set("type", device_type_name(ggml_backend_dev_type(dev)));
        d.Set("backend", ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)));
        d.Set("memoryFree", static_cast<double>(free));
        d.Set("memoryTotal", static_cast<double>(total));
        devices.Set(static_cast<uint32_t>(i), d);
    }
    return devices;
}

// The CPU device's extra buffer types ("AMX", "CPU_REPACK", ...): what use_extra_bufts turns on for a model.
Napi::Object cpu_backend_info(Napi::Env env, const Napi::Object & cpu_features) {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array names = Napi::Array::New(env);
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (cpu != nullptr) {
        auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
            ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu), "ggml_backend_dev_get_extra_bufts"));
        for (ggml_backend_buffer_type_t * b = get_extra ? get_extra(cpu) : nullptr; b != nullptr && *b != nullptr; b++) {
            names.Set(names.Length(), ggml_backend_buft_name(*b));
        }
    }
    o.Set("amx", cpu_features.Has("AMX_INT8"));
    o.Set("extraBufferTypes", names);
    o.Set("extraBufferTypesEnabled", extra_buffer_types_allowed());
    return o;
}

} // namespace

std::string addon_path() {
#if !defined(_WIN32)
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&addon_path), &info) != 0 && info.dli_fname != nullptr) {
        return info.dli_fname;
    }
#endif
    return "";
}

std::string addon_directory() {
    return std::filesystem::path(addon_path()).parent_path().string();
}

Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object result = Napi::Object::New(env);
    Napi::Object cpu_features = Napi::Object::New(env);
    result.Set("llamaCpp", llama_cpp_info(env));
    result.Set("gpu", EFFECT_LLAMA_GPU);
    result.Set("binary", addon_path());
    result.Set("cpuVariant", cpu_variant());
    result.Set("backends", backends_info(env, cpu_features));
    result.Set("devices", devices_info(env));
    Napi::Array warnings = Napi::Array::New(env);
    for (const std::string & w : gpu_warnings()) {
        warnings.Set(warnings.Length(), w);
    }
    result.Set("warnings", warnings);
    result.Set("cpuFeatures", cpu_features);
    result.Set("cpuBackend", cpu_backend_info(env, cpu_features));
    compute_budget & budget = compute_budget::global();
    compute_budget::stats_t stats = budget.stats();
    Napi::Object compute = Napi::Object::New(env);
    compute.Set("threads", budget.capacity());
    compute.Set("inUse", stats.in_use);
    compute.Set("peak", stats.peak);
    compute.Set("turns", static_cast<double>(stats.turns));
    compute.Set("waits", static_cast<double>(stats.waits));
    result.Set("computeBudget", compute);
    result.Set("defaultThreads", common_cpu_get_num_math());
    result.Set("hardwareThreads", static_cast<double>(std::thread::hardware_concurrency()));
    result.Set("supportsGpuOffload", llama_supports_gpu_offload());
    result.Set("supportsMmap", llama_supports_mmap());
    result.Set("supportsMlock", llama_supports_mlock());
    result.Set("maxDevices", static_cast<double>(llama_max_devices()));
    result.Set("summary", llama_print_system_info());
    return result;
}

} // namespace effect_llama
