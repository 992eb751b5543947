// The ggml CPU thread pools of one llama context. ggml is built without OpenMP (CMakeLists.txt), so each context
// gets pools of its own, as llama-bench and llama-server attach them: contexts never share one OpenMP team, and
// a second context in the process costs nothing while it is idle.
#pragma once

#include "ggml-cpu.h"
#include "llama.h"

namespace effect_llama {

class thread_pools {
public:
    explicit thread_pools(llama_context * ctx) {
        ggml_threadpool_params params = ggml_threadpool_params_default(llama_n_threads(ctx));
        ggml_threadpool_params batch_params = ggml_threadpool_params_default(llama_n_threads_batch(ctx));
        if (!ggml_threadpool_params_match(&params, &batch_params)) {
            batch = ggml_threadpool_new(&batch_params);
            params.paused = true; // as llama.cpp's common: the pool not in use sleeps until a graph needs it
        }
        pool = ggml_threadpool_new(&params);
        // Where a pool cannot be made, ggml falls back to a pool per graph: slower, still correct.
        if (pool != nullptr) {
            llama_attach_threadpool(ctx, pool, batch);
        }
    }

    // Worker threads poll for work a while after each graph; an idle scheduler puts them to sleep at once.
    // The next graph wakes them (ggml resumes a paused pool on kickoff).
    void pause() {
        if (pool != nullptr) ggml_threadpool_pause(pool);
        if (batch != nullptr) ggml_threadpool_pause(batch);
    }

    // Only after llama_free of the context they are attached to.
    ~thread_pools() {
        ggml_threadpool_free(pool);
        ggml_threadpool_free(batch);
    }

    thread_pools(const thread_pools &) = delete;
    thread_pools & operator=(const thread_pools &) = delete;

private:
    ggml_threadpool * pool = nullptr;
    ggml_threadpool * batch = nullptr;
};

} // namespace effect_llama
