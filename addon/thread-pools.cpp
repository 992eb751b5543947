#include "thread-pools.h"

#include "ggml-backend.h"

#if defined(GGML_BACKEND_DL) && !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace effect_llama {

namespace {

struct threadpool_api {
    decltype(ggml_threadpool_new) * create = nullptr;
    decltype(ggml_threadpool_free) * destroy = nullptr;
    decltype(ggml_threadpool_pause) * pause = nullptr; // optional: without it, idle workers stop polling on their own
};

const threadpool_api & cpu_threadpool_api() {
    static const threadpool_api api = [] {
        threadpool_api a;
        ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        if (cpu == nullptr) {
            return a;
        }
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
        a.create = reinterpret_cast<decltype(a.create)>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
        a.destroy = reinterpret_cast<decltype(a.destroy)>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
#if defined(GGML_BACKEND_DL) && !defined(_WIN32)
        // The registry has no entry for pause: find it in the loaded CPU variant itself.
        Dl_info info;
        if (a.create != nullptr && dladdr(reinterpret_cast<void *>(a.create), &info) != 0 && info.dli_fname != nullptr) {
            if (void * module = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD)) {
                a.pause = reinterpret_cast<decltype(a.pause)>(dlsym(module, "ggml_threadpool_pause"));
                dlclose(module); // drops the reference NOLOAD took; ggml keeps its own
            }
        }
#elif !defined(GGML_BACKEND_DL)
        a.pause = ggml_threadpool_pause;
#endif
        return a;
    }();
    return api;
}

} // namespace

thread_pools::thread_pools(llama_context * ctx) {
    const threadpool_api & api = cpu_threadpool_api();
    if (api.create == nullptr || api.destroy == nullptr) {
        return; // ggml falls back to a pool per graph: slower, still correct
    }
    ggml_threadpool_params params = ggml_threadpool_params_default(llama_n_threads(ctx));
    ggml_threadpool_params batch_params = ggml_threadpool_params_default(llama_n_threads_batch(ctx));
    if (!ggml_threadpool_params_match(&params, &batch_params)) {
        batch = api.create(&batch_params);
        params.paused = true; // as llama.cpp's common: the pool not in use sleeps until a graph needs it
    }
    pool = api.create(&params);
    if (pool != nullptr) {
        llama_attach_threadpool(ctx, pool, batch);
    }
}

void thread_pools::pause() {
    const threadpool_api & api = cpu_threadpool_api();
    if (api.pause == nullptr) {
        return;
    }
    if (pool != nullptr) api.pause(pool);
    if (batch != nullptr) api.pause(batch);
}

thread_pools::~thread_pools() {
    const threadpool_api & api = cpu_threadpool_api();
    if (api.destroy != nullptr) {
        if (pool != nullptr) api.destroy(pool);
        if (batch != nullptr) api.destroy(batch);
    }
}

} // namespace effect_llama
