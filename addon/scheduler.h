// The scheduler owns one llama_context and ONE thread that runs every job on it with continuous batching: each
// step packs the next token of every generating sequence and chunks of pending prompts into one llama_batch.
// Thread rules: submit(), abort() and stop() may be called from any thread (they lock or store atomics); all
// other state is touched by the scheduler thread alone. Results leave through the `emit` callback as batches.
#pragma once

#include "llama-cpp.h"
#include "lora.h"
#include "model.h"
#include "sampler.h"
#include "thread-pools.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace effect_llama {

struct media_prompt;  // vision.h
class speculator;     // speculative.h

// One text of an embed job that could not be embedded (empty, too long); the job's other texts are.
struct embed_failure {
    size_t index;
    std::string code, message;
};

struct job_event {
    enum kind_t { TOKEN, DONE, ERROR, EMBEDDINGS } kind = TOKEN;
    uint32_t job = 0;
    int32_t token = -1;
    std::string text;                      // TOKEN: text safe to show (may be empty while held back)
    std::string reason;                    // DONE: eog | stop | length | abort
    std::string stop;                      // DONE with reason stop: the stop string
    int32_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
    double prefill_ms = 0, generate_ms = 0;
    int32_t image_tokens = 0;              // DONE: prompt tokens that came from images (vision.cpp)
    bool speculative = false;              // DONE: drafted and accepted tokens (speculative.cpp) are reported
    int32_t drafted = 0, accepted = 0;
    std::string code, message;             // ERROR
    std::vector<std::vector<float>> vectors; // EMBEDDINGS: one per text, empty where the text failed
    std::vector<embed_failure> failures;     // EMBEDDINGS
};
using event_batch = std::vector<job_event>;

struct generate_request {
    int32_t sequence = 0;
    std::vector<llama_token> tokens;       // used when `text` is empty
    std::string text;
    bool add_special = true;
    bool parse_special = true;
    sampling_options sampling;
    int32_t max_tokens = -1;               // -1: until the sequence's context is full
    std::vector<std::string> stops;
    bool ignore_eog = false;
    int32_t window = 0;                    // > 0: pause after this many token events not yet acked (backpressure)
    std::optional<lora_set> lora;          // this request's adapters; absent: the context's (lora.h)
    bool speculative = true;               // draft ahead when the context has a drafter (speculative.h)
    std::shared_ptr<media_prompt> media;   // text and image parts instead of text/tokens (vision.h)
};

struct embed_request {
    std::vector<std::string> texts;
    bool normalize = true;
    bool add_special = true;
    bool parse_special = false; // text is text: "<|endoftext|>" in it is not the control token
    std::vector<std::string> rank_queries; // rank job: text i is a document scored against query i (rank.cpp)
};

struct scheduler_options {
    int32_t n_threads = 0;
    int32_t n_threads_batch = 0;
};

class scheduler {
public:
    using emit_fn = std::function<void(std::unique_ptr<event_batch>)>;

    scheduler(std::shared_ptr<model_state> model, llama_context_ptr ctx, emit_fn emit,
              std::unique_ptr<speculator> spec = nullptr, lora_set lora = {});
    ~scheduler();  // stops and joins

    uint32_t submit(generate_request request);   // any thread
    uint32_t submit(embed_request request);      // any thread
    bool abort(uint32_t job_id);                 // any thread; false when the job is unknown or finished
    void ack(uint32_t job_id, int32_t events);   // any thread; the consumer took `events` token events
    void stop();                                 // any thread; aborts every job, then the thread exits
    void join();                                 // not the scheduler thread
    // Runs fn on the scheduler thread between two steps; the future carries what it threw. Any thread.
    std::future<void> call(std::function<void()> fn);
    void set_lora(lora_set lora);                // any thread; the context's adapters for requests that start later

    llama_context * context() const { return ctx.get(); }
    ggml_type kv_type = GGML_TYPE_F16; // set once, before the first job: what saved states are checked against

    // Scheduler thread only (inside call()).
    void warmup();                                                                      // warmup.cpp
    std::vector<uint8_t> save_state(int32_t seq, const std::string & metadata);          // state.cpp
    std::pair<std::vector<llama_token>, std::string> load_state(int32_t seq, const std::vector<uint8_t> & data);
    struct warmup_stats { int32_t tokens = 0; double ms = 0; bool done = false; } warmed; // written by warmup()

private:
    struct job;
    struct slot {
        std::vector<llama_token> cached;   // tokens whose KV cells this sequence holds, in order
        std::shared_ptr<job> active;
        lora_set lora;                     // the adapters `cached` was computed with
        bool opaque = false;               // holds image embeddings: no prefix reuse, no state save (vision.cpp)
    };
    struct task {
        std::function<void()> fn;
        std::promise<void> done;
    };

    uint32_t enqueue(const std::shared_ptr<job> & j);
    void run();
    void start(const std::shared_ptr<job> & j, event_batch & out);
    void start_generate(job & j);
    void run_embed(job & j, event_batch & out);
    bool step(event_batch & out);
    void after_decode(job & j, event_batch & out);
    void finish(job & j, const char * reason, event_batch & out);
    void fail(job & j, const std::string & code, const std::string & message, event_batch & out);
    void release(job & j);
    void rollback_batch();
    void equalize_prompts(const std::vector<job *> & chosen, size_t & planned);
    void plan_draft(job & j, int64_t room);          // speculative.cpp
    void verify_draft(job & j, event_batch & out);   // speculative.cpp
    void start_media(const std::shared_ptr<job> & j, event_batch & out); // vision.cpp
    bool runnable(const job & j) const;
    int32_t threads_for(int32_t n_tokens) const;

    static bool abort_callback(void * data);

    std::shared_ptr<model_state> model;
    std::unique_ptr<thread_pools> pools;   // declared before ctx: freed after it
    llama_context_ptr ctx;
    emit_fn emit;
    const llama_vocab * vocab;
    uint32_t n_batch;
    uint32_t n_ctx_seq;

    std::mutex mutex;                    // guards incoming, jobs, next_id, stopping
    std::condition_variable wake;
    std::deque<std::shared_ptr<job>> incoming;
    std::deque<std::shared_ptr<task>> tasks;
    lora_set default_lora;
    std::map<uint32_t, std::shared_ptr<job>> jobs;
    uint32_t next_id = 1;
    bool stopping = false;
    std::atomic<bool> abort_pending{false};   // read by llama's abort callback mid-graph
    // Until when a new job may stop the prompt-only step under way so that it joins it (ms, steady clock; 0: none).
    std::atomic<double> merge_until{0};
    bool merging = false;                // a job stopped that step: wait for the rest of the burst

    // scheduler thread only
    std::string broken;                  // set when llama.cpp aborted mid-decode: every later job fails
    std::unique_ptr<speculator> spec;   // null: plain decoding, untouched
    lora_set applied_lora;              // what llama_set_adapters_lora last set
    uint64_t n_steps = 0;
    double burst_started = 0;           // when the first prompt-only step of a burst of arrivals started
    bool unified_kv = false;            // one KV stream: llama.cpp puts a whole batch in one ubatch
    std::vector<slot> slots;
    std::vector<std::shared_ptr<job>> running;
    llama_batch batch{};
    std::thread thread;
};

} // namespace effect_llama
