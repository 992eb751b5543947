// Module init only: backend init once per process, the log bridge, cleanup hooks, exports.
#include <napi.h>

#include "abort-guard.h"
#include "chat-template.h"
#include "context.h"
#include "llama.h"
#include "log-bridge.h"
#include "log.h" // llama.cpp common/log.h
#include "model.h"
#include "system-info.h"

#include <mutex>

#if defined(GGML_BACKEND_DL)
#include "ggml-backend.h"
#include "system-info.h"

#include <filesystem>
#endif

namespace effect_llama {

namespace {

std::mutex backend_mutex;
int backend_users = 0; // one per Node environment (main thread and each worker_thread) that loaded the addon

void release_backend(void * env) {
    log_release(static_cast<napi_env>(env));
    std::lock_guard<std::mutex> lock(backend_mutex);
    if (--backend_users == 0) {
        llama_backend_free();
    }
}

void acquire_backend(Napi::Env env) {
    {
        std::lock_guard<std::mutex> lock(backend_mutex);
        if (backend_users++ == 0) {
            log_install(); // before init, so nothing reaches stderr
            common_log_pause(common_log_main()); // common's own logger prints to stdio; its messages are dropped
            abort_guard_install();
#if defined(GGML_BACKEND_DL)
            // A prebuilt addon: ggml picks the CPU variant that fits this CPU from the libraries beside it.
            std::filesystem::path dir = addon_directory();
            if (!std::filesystem::exists(dir / "libggml-base.so") && std::filesystem::exists(dir / ".." / "bin")) {
                dir = dir / ".." / "bin"; // run from the build folder
            }
            ggml_backend_load_all_from_path(dir.string().c_str());
#endif
            llama_backend_init();
        }
    }
    napi_add_env_cleanup_hook(env, release_backend, static_cast<napi_env>(env));
}

} // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    acquire_backend(env);
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
    exports.Set("setLogger", Napi::Function::New(env, SetLogger, "setLogger"));
    exports.Set("jsonSchemaToGrammar", Napi::Function::New(env, JsonSchemaToGrammar, "jsonSchemaToGrammar"));
    Model::Init(env, exports);
    Context::Init(env, exports);
    return exports;
}

} // namespace effect_llama

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
    return effect_llama::Init(env, exports);
}

NODE_API_MODULE(effect_llama, InitModule)
