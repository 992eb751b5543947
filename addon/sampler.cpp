#include "sampler.h"

#include "common.h"
#include "convert.h"
#include "errors.h"

#include <algorithm>
#include <cmath>

namespace effect_llama {

namespace {

[[noreturn]] void invalid(Napi::Env env, const std::string & message) {
    throw coded_type_error(env, code::INVALID_SAMPLING, "sampling: " + message);
}

float ranged(Napi::Env env, const Napi::Object & o, const char * key, float fallback, double min, double max) {
    double v = get_number(o, key, fallback);
    if (v < min || v > max) {
        invalid(env, std::string(key) + " must be in [" + format_number(min) + ", " + format_number(max) +
                         "], got " + format_number(v));
    }
    return static_cast<float>(v);
}

common_grammar_trigger_type trigger_type(Napi::Env env, const std::string & name) {
    if (name == "token") return COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN;
    if (name == "word") return COMMON_GRAMMAR_TRIGGER_TYPE_WORD;
    if (name == "pattern") return COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN;
    if (name == "pattern_full") return COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL;
    invalid(env, "grammar trigger type must be token, word, pattern or pattern_full, got " + name);
}

void read_triggers(Napi::Env env, const Napi::Object & o, sampling_options & out) {
    Napi::Value v = o.Get("grammarTriggers");
    if (is_missing(v)) {
        return;
    }
    if (!v.IsArray()) {
        invalid(env, "grammarTriggers must be an array");
    }
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value item = a.Get(i);
        if (!item.IsObject()) {
            invalid(env, "each grammar trigger must be { type, value }");
        }
        Napi::Object t = item.As<Napi::Object>();
        std::string type = opt_string(t, "type").value_or("word");
        trigger_type(env, type);
        out.triggers.emplace_back(type, opt_string(t, "value").value_or(""));
    }
}

void read_logit_bias(Napi::Env env, const Napi::Object & o, int32_t n_vocab, common_params_sampling & p) {
    Napi::Value v = o.Get("logitBias");
    if (is_missing(v)) {
        return;
    }
    if (!v.IsArray()) {
        invalid(env, "logitBias must be an array of { token, bias }");
    }
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value item = a.Get(i);
        if (!item.IsObject()) {
            invalid(env, "logitBias must be an array of { token, bias }");
        }
        Napi::Object b = item.As<Napi::Object>();
        int64_t token = get_int(b, "token", -1, -1, INT32_MAX, code::INVALID_SAMPLING);
        if (token < 0 || token >= n_vocab) {
            invalid(env, "logitBias token " + std::to_string(token) + " is outside the vocabulary");
        }
        Napi::Value bias = b.Get("bias");
        if (!bias.IsNumber() || std::isnan(bias.As<Napi::Number>().DoubleValue())) {
            invalid(env, "logitBias bias must be a number (-Infinity bans the token)");
        }
        p.logit_bias.push_back({static_cast<llama_token>(token), bias.As<Napi::Number>().FloatValue()});
    }
    std::vector<bool> banned(static_cast<size_t>(n_vocab), false);
    int32_t n_banned = 0;
    for (const llama_logit_bias & b : p.logit_bias) {
        if (b.bias == -INFINITY && !banned[b.token]) {
            banned[b.token] = true;
            n_banned++;
        }
    }
    if (n_vocab > 0 && n_banned == n_vocab) {
        invalid(env, "logitBias bans every token of the vocabulary");
    }
}

} // namespace

sampling_options read_sampling(Napi::Env env, const Napi::Value & value, int32_t n_vocab) {
    sampling_options out;
    if (is_missing(value)) {
        return out;
    }
    if (!value.IsObject()) {
        invalid(env, "options must be an object");
    }
    Napi::Object o = value.As<Napi::Object>();
    common_params_sampling & p = out.params;
    p.temp = ranged(env, o, "temperature", p.temp, 0, 100);
    p.top_k = static_cast<int32_t>(get_int(o, "topK", p.top_k, 0, INT32_MAX, code::INVALID_SAMPLING));
    p.top_p = ranged(env, o, "topP", p.top_p, 0, 1);
    p.min_p = ranged(env, o, "minP", p.min_p, 0, 1);
    p.typ_p = ranged(env, o, "typicalP", p.typ_p, 0, 1);
    p.top_n_sigma = ranged(env, o, "topNSigma", p.top_n_sigma, -1, 1000);
    p.penalty_last_n = static_cast<int32_t>(get_int(o, "penaltyLastN", p.penalty_last_n, -1, INT32_MAX, code::INVALID_SAMPLING));
    p.penalty_repeat = ranged(env, o, "repeatPenalty", p.penalty_repeat, 0, 100);
    p.penalty_freq = ranged(env, o, "frequencyPenalty", p.penalty_freq, -100, 100);
    p.penalty_present = ranged(env, o, "presencePenalty", p.penalty_present, -100, 100);
    p.dry_multiplier = ranged(env, o, "dryMultiplier", p.dry_multiplier, 0, 100);
    p.dry_base = ranged(env, o, "dryBase", p.dry_base, 0, 100);
    p.dry_allowed_length = static_cast<int32_t>(get_int(o, "dryAllowedLength", p.dry_allowed_length, 0, INT32_MAX, code::INVALID_SAMPLING));
    p.dry_penalty_last_n = static_cast<int32_t>(get_int(o, "dryPenaltyLastN", p.dry_penalty_last_n, -1, INT32_MAX, code::INVALID_SAMPLING));
    if (!is_missing(o.Get("drySequenceBreakers"))) {
        p.dry_sequence_breakers = get_strings(o, "drySequenceBreakers");
    }
    p.xtc_probability = ranged(env, o, "xtcProbability", p.xtc_probability, 0, 1);
    p.xtc_threshold = ranged(env, o, "xtcThreshold", p.xtc_threshold, 0, 1);
    p.mirostat = static_cast<int32_t>(get_int(o, "mirostat", p.mirostat, 0, 2, code::INVALID_SAMPLING));
    p.mirostat_tau = ranged(env, o, "mirostatTau", p.mirostat_tau, 0, 100);
    p.mirostat_eta = ranged(env, o, "mirostatEta", p.mirostat_eta, 0, 1);
    p.min_keep = static_cast<int32_t>(get_int(o, "minKeep", p.min_keep, 0, INT32_MAX, code::INVALID_SAMPLING));
    p.seed = static_cast<uint32_t>(get_int(o, "seed", LLAMA_DEFAULT_SEED, 0, UINT32_MAX, code::INVALID_SAMPLING));
    read_logit_bias(env, o, n_vocab, p);

    out.grammar = opt_string(o, "grammar").value_or("");
    // llama.cpp reads the grammar as a C string: "" or a NUL in front would silently constrain nothing
    if (!is_missing(o.Get("grammar")) && out.grammar.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw coded_type_error(env, code::GRAMMAR_ERROR, "sampling: the grammar is empty");
    }
    if (out.grammar.find('\0') != std::string::npos) {
        throw coded_type_error(env, code::GRAMMAR_ERROR, "sampling: the grammar contains a NUL byte");
    }
    out.grammar_type = opt_string(o, "grammarType").value_or("user");
    if (out.grammar_type != "user" && out.grammar_type != "output_format" && out.grammar_type != "tool_calls") {
        invalid(env, "grammarType must be user, output_format or tool_calls");
    }
    p.grammar_lazy = get_bool(o, "grammarLazy", false);
    p.generation_prompt = opt_string(o, "generationPrompt").value_or("");
    read_triggers(env, o, out);
    out.preserved_tokens = get_strings(o, "preservedTokens");
    if (p.grammar_lazy && out.triggers.empty()) {
        invalid(env, "a lazy grammar needs at least one trigger");
    }
    return out;
}

common_sampler_ptr make_sampler(const llama_model * model, sampling_options & options, std::vector<llama_token> & preserved) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    common_params_sampling & p = options.params;
    // As llama-server does: preserved tokens that are single tokens are rendered as text and may trigger grammars.
    for (const std::string & text : options.preserved_tokens) {
        std::vector<llama_token> ids = common_tokenize(vocab, text, false, true);
        if (ids.size() == 1) {
            p.preserved_tokens.insert(ids[0]);
            preserved.push_back(ids[0]);
        }
    }
    for (const auto & [type, value] : options.triggers) {
        common_grammar_trigger trigger;
        trigger.type = type == "token" ? COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN
                     : type == "pattern" ? COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN
                     : type == "pattern_full" ? COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL
                     : COMMON_GRAMMAR_TRIGGER_TYPE_WORD;
        trigger.value = value;
        if (trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD || trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN) {
            std::vector<llama_token> ids = common_tokenize(vocab, value, false, true);
            if (trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN && ids.size() != 1) {
                // it would never fire as a token, and as a word it is not what was asked for
                throw native_error(code::GRAMMAR_ERROR, "grammar trigger of type token \"" + value +
                                                            "\" is not a single token of this vocabulary (it is " +
                                                            std::to_string(ids.size()) + ")");
            }
            if (ids.size() == 1 && (p.preserved_tokens.count(ids[0]) > 0 || trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN)) {
                trigger.type = COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN;
                trigger.token = ids[0];
            }
        }
        p.grammar_triggers.push_back(std::move(trigger));
    }
    if (!options.grammar.empty()) {
        common_grammar_type type = options.grammar_type == "tool_calls" ? COMMON_GRAMMAR_TYPE_TOOL_CALLS
                                 : options.grammar_type == "output_format" ? COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT
                                 : COMMON_GRAMMAR_TYPE_USER;
        p.grammar = common_grammar(type, options.grammar);
    }
    common_sampler * sampler = nullptr;
    try {
        sampler = common_sampler_init(model, p);
    } catch (const std::exception & e) {
        throw native_error(code::GRAMMAR_ERROR, std::string("invalid grammar: ") + e.what());
    }
    if (sampler == nullptr) {
        throw native_error(code::GRAMMAR_ERROR, "invalid grammar or sampling parameters");
    }
    return common_sampler_ptr(sampler);
}

bool is_plain_greedy(const llama_model * model, const sampling_options & options) {
    const common_params_sampling & p = options.params;
    int32_t n_suppress = 0;
    llama_vocab_get_suppress_tokens(llama_model_get_vocab(model), &n_suppress);
    bool neutral_penalties = p.penalty_last_n == 0 ||
                             (p.penalty_repeat == 1.0f && p.penalty_freq == 0.0f && p.penalty_present == 0.0f);
    // Samplers that may drop the top candidate or pick at random; the others (top-k/p, min-p, top-n-sigma) keep it.
    bool only_keeping_samplers = std::all_of(p.samplers.begin(), p.samplers.end(), [](common_sampler_type t) {
        return t != COMMON_SAMPLER_TYPE_INFILL && t != COMMON_SAMPLER_TYPE_ADAPTIVE_P;
    });
    return p.temp <= 0.0f && p.dynatemp_range <= 0.0f && p.mirostat == 0 && options.grammar.empty() &&
           p.logit_bias.empty() && n_suppress == 0 && neutral_penalties && p.dry_multiplier == 0.0f &&
           p.xtc_probability == 0.0f && p.typ_p >= 1.0f && p.reasoning_budget_start.empty() && only_keeping_samplers;
}

llama_token argmax_token(const float * logits, int32_t n_vocab) {
    // Lane-wise maxima first: the compiler turns this loop into vector max instructions (no -ffast-math needed).
    constexpr int32_t lanes = 16;
    float lane_max[lanes];
    std::fill(lane_max, lane_max + lanes, -INFINITY);
    int32_t i = 0;
    for (; i + lanes <= n_vocab; i += lanes) {
        for (int32_t k = 0; k < lanes; k++) {
            lane_max[k] = logits[i + k] > lane_max[k] ? logits[i + k] : lane_max[k];
        }
    }
    float best = *std::max_element(lane_max, lane_max + lanes);
    for (; i < n_vocab; i++) {
        best = logits[i] > best ? logits[i] : best;
    }
    const float * first = std::find(logits, logits + n_vocab, best);
    return first == logits + n_vocab ? 0 : static_cast<llama_token>(first - logits);
}

} // namespace effect_llama
