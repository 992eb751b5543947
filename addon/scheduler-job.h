// One queued or running job of the scheduler, with its generation state. Scheduler thread only, except
// `aborted` (atomic, set by abort()/stop() from any thread).
#pragma once

#include "scheduler.h"
#include "text-stream.h"

namespace effect_llama {

struct scheduler::job {
    uint32_t id = 0;
    bool is_embed = false;
    generate_request gen;
    embed_request emb;
    std::atomic<bool> aborted{false};
    std::atomic<int32_t> unacked{0};   // token events sent and not yet acked by the consumer

    common_sampler_ptr sampler;
    bool greedy = false;         // plain greedy: argmax of the logits, the sampler is not consulted
    std::vector<llama_token> preserved;
    std::unique_ptr<text_stream> text;
    std::vector<llama_token> prompt;
    size_t n_prompt_done = 0;    // prompt tokens already in the KV cache
    int32_t n_cached = 0;        // of those, reused from an earlier request
    llama_pos n_past = 0;        // next position of this sequence
    bool decoding = false;       // prompt done: next_token waits to be decoded
    llama_token next_token = LLAMA_TOKEN_NULL;
    int32_t n_generated = 0;
    bool finished = false;

    // this step's share of the batch
    int32_t batch_output = -1;   // batch index whose logits this job samples from
    size_t batch_prompt = 0;     // prompt tokens placed in the batch
    llama_pos batch_start = -1;  // first position placed in the batch

    double t_start = 0, t_prefill_end = 0;

    lora_set lora;                    // the adapters this job decodes with (its request's or the context's)
    uint64_t served = 0;              // the step that last decoded it: adapter sets take turns by it
    std::vector<llama_token> draft;   // this step's drafted tokens, after next_token in the batch
    int32_t n_drafted = 0, n_accepted = 0;
    int32_t n_image_tokens = 0;
};

} // namespace effect_llama
