// The ggml CPU thread pools of one llama context. ggml is built without OpenMP (CMakeLists.txt), so each context
// gets pools of its own, as llama-bench and llama-server attach them: contexts never share one OpenMP team, and
// a second context in the process costs nothing while it is idle. The pool functions live in the CPU backend,
// which a prebuilt addon loads at run time (GGML_BACKEND_DL), so they are looked up through its registry.
#pragma once

#include "ggml-cpu.h"
#include "llama.h"

namespace effect_llama {

class thread_pools {
public:
    explicit thread_pools(llama_context * ctx);

    // Worker threads poll for work a while after each graph; an idle scheduler puts them to sleep at once.
    // The next graph wakes them (ggml resumes a paused pool on kickoff).
    void pause();

    // Only after llama_free of the context they are attached to.
    ~thread_pools();

    thread_pools(const thread_pools &) = delete;
    thread_pools & operator=(const thread_pools &) = delete;

private:
    ggml_threadpool * pool = nullptr;
    ggml_threadpool * batch = nullptr;
};

} // namespace effect_llama
