// Context: one llama_context and its scheduler thread (scheduler.h). Jobs (generate, embed) are queued with an
// id; their events come back in batches through ONE ThreadSafeFunction per context, not a Promise per token.
// Thread rules: every method runs on the JS thread; init and dispose do their work on libuv worker threads.
#pragma once

#include "model.h"
#include "scheduler.h"
#include "speculative.h"

#include <napi.h>

#include <memory>

namespace effect_llama {

struct context_options {
    uint32_t n_ctx = 4096;
    uint32_t n_batch = 512;
    uint32_t n_ubatch = 512;
    uint32_t n_seq = 1;
    int32_t n_threads = 0;        // 0: llama.cpp common's choice (physical cores)
    int32_t n_threads_batch = 0;  // 0: same as n_threads
    llama_flash_attn_type flash_attn = LLAMA_FLASH_ATTN_TYPE_AUTO;
    bool embeddings = false;
    enum llama_pooling_type pooling = LLAMA_POOLING_TYPE_UNSPECIFIED;
    ggml_type kv_type = GGML_TYPE_F16;
    bool kv_unified = false;
    bool warmup = false;               // one tiny decode before init resolves (warmup.cpp)
    lora_set lora;                     // the adapters requests decode with unless they name their own (lora.h)
    speculative_options speculative;   // a drafter for generating sequences (speculative.h)
};

// JS-thread state for event delivery: counts live jobs so the TSFN keeps the loop alive only while one runs.
struct event_sink {
    Napi::ThreadSafeFunction tsfn;
    int active_jobs = 0;
    bool released = false;
};

class Context : public Napi::ObjectWrap<Context> {
public:
    static void Init(Napi::Env env, Napi::Object exports);

    explicit Context(const Napi::CallbackInfo & info); // (model, options)
    ~Context() override;

private:
    Napi::Value Initialize(const Napi::CallbackInfo & info); // init(onEvents) -> Promise<void>
    Napi::Value Generate(const Napi::CallbackInfo & info);   // generate(request) -> job id
    Napi::Value Embed(const Napi::CallbackInfo & info);      // embed(request) -> job id
    Napi::Value Abort(const Napi::CallbackInfo & info);      // abort(job id) -> boolean
    Napi::Value Ack(const Napi::CallbackInfo & info);        // ack(job id, events): the consumer took them
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value SaveState(const Napi::CallbackInfo & info);  // state.cpp: saveState({ sequence, path?, metadata? })
    Napi::Value LoadState(const Napi::CallbackInfo & info);  // state.cpp: loadState({ sequence, path | data })
    Napi::Value SetLora(const Napi::CallbackInfo & info);    // setLora([{ adapter, scale }])
    Napi::Value Rank(const Napi::CallbackInfo & info);       // rank.cpp: rank({ query, documents }) -> job id
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value IsDisposed(const Napi::CallbackInfo & info);

    std::shared_ptr<scheduler> running_scheduler(Napi::Env env, const char * method);
    void job_started(Napi::Env env);

    std::shared_ptr<model_state> model;
    Model * model_wrapper = nullptr;   // for adapter lookups; the JS object is pinned by model_ref
    Napi::ObjectReference model_ref;
    context_options options;
    std::shared_ptr<scheduler> sched;
    std::shared_ptr<event_sink> sink;
    bool initializing = false;
    bool disposed = false;
};

} // namespace effect_llama
