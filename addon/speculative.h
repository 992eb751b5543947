// Speculative decoding: a drafter proposes the tokens that follow a generating sequence, the scheduler decodes
// them in the same batch as the sequence's next token, and keeps the run the target model agrees with (its own
// sampler picks every kept token, so the output is what decoding one token at a time gives). Drafters: a small
// draft model of the same vocabulary (its own llama_context), or prompt lookup (n-grams of the sequence itself).
// Thread rules: create() runs on a worker thread before the scheduler starts; everything else on the scheduler
// thread.
#pragma once

#include "model.h"
#include "thread-pools.h"

#include <atomic>
#include <memory>
#include <vector>

namespace effect_llama {

struct speculative_options {
    enum kind_t { NONE, DRAFT_MODEL, NGRAM } kind = NONE;
    std::shared_ptr<model_state> draft_model; // DRAFT_MODEL
    int32_t n_max = 8;                        // tokens drafted per step at most
    int32_t ngram_min = 1, ngram_max = 4;     // NGRAM: the lengths of the suffix looked up, longest first
};

class speculator {
public:
    // Throws native_error when the draft model cannot serve the target (another vocabulary, no context).
    static std::unique_ptr<speculator> create(const speculative_options & options, const llama_context * target);
    virtual ~speculator() = default;

    // Up to n_max tokens likely to follow `history` then `last` (last is sampled, not yet decoded). A draft decode
    // stops when `cancel` turns true (an abort is pending): the draft is then shorter or empty.
    virtual std::vector<llama_token> propose(int32_t seq, const std::vector<llama_token> & history, llama_token last,
                                             int32_t n_max, const std::atomic<bool> & cancel) = 0;
    int32_t n_max() const { return options.n_max; }

protected:
    explicit speculator(speculative_options options) : options(std::move(options)) {}
    speculative_options options;
};

} // namespace effect_llama
