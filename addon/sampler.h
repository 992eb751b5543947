// Sampling options read from JS (validated at the door, INVALID_SAMPLING) and the common_sampler built from them
// on the scheduler thread (GRAMMAR_ERROR when the grammar does not parse).
#pragma once

#include "sampling.h"

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace effect_llama {

struct sampling_options {
    common_params_sampling params;
    std::string grammar;
    std::string grammar_type = "user";                           // user | output_format | tool_calls
    std::vector<std::pair<std::string, std::string>> triggers;   // (type, value)
    std::vector<std::string> preserved_tokens;
};

struct common_sampler_deleter {
    void operator()(common_sampler * s) const { common_sampler_free(s); }
};
using common_sampler_ptr = std::unique_ptr<common_sampler, common_sampler_deleter>;

// JS thread. `n_vocab` bounds logit-bias token ids.
sampling_options read_sampling(Napi::Env env, const Napi::Value & value, int32_t n_vocab);

// Scheduler thread. Fills `preserved` with the token ids of the preserved tokens (rendered as text when sampled).
common_sampler_ptr make_sampler(const llama_model * model, sampling_options & options, std::vector<llama_token> & preserved);

// True when these options always pick the most likely token: temperature 0 and nothing that changes the logits or
// the candidates before the pick (no grammar, bias, penalties, DRY, XTC, typical-p, dynamic temperature, mirostat).
// Such a job can take the argmax of the logits instead of common_sampler's full-vocabulary chain.
bool is_plain_greedy(const llama_model * model, const sampling_options & options);

// Index of the first largest logit: the token common_sampler's greedy chain picks (up to exact ties).
llama_token argmax_token(const float * logits, int32_t n_vocab);

} // namespace effect_llama
