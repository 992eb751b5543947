// Module init only: backend init once per process, quiet logging until a JS logger is set, cleanup hook, exports.
#include <napi.h>

#include "llama.h"
#include "system-info.h"

#include <mutex>

namespace effect_llama {

namespace {

std::mutex backend_mutex;
int backend_users = 0; // one per Node environment (main thread and each worker_thread) that loaded the addon

// llama.cpp prints to stderr by default; nothing may print from inside the addon.
void quiet_log(enum ggml_log_level, const char *, void *) {}

void release_backend(void *) {
    std::lock_guard<std::mutex> lock(backend_mutex);
    if (--backend_users == 0) {
        llama_backend_free();
    }
}

void acquire_backend(Napi::Env env) {
    {
        std::lock_guard<std::mutex> lock(backend_mutex);
        if (backend_users++ == 0) {
            llama_log_set(quiet_log, nullptr);
            llama_backend_init();
        }
    }
    napi_add_env_cleanup_hook(env, release_backend, nullptr);
}

} // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    acquire_backend(env);
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
    return exports;
}

} // namespace effect_llama

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
    return effect_llama::Init(env, exports);
}

NODE_API_MODULE(effect_llama, InitModule)
