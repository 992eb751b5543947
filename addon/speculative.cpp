// Speculative decoding (speculative.h): the drafters, and the scheduler's part: plan_draft picks a draft to follow a
// sequence's next token in the batch, verify_draft keeps the run the target's sampler agrees with.
#include "speculative.h"

#include "abort-guard.h"
#include "common.h"
#include "compute-budget.h"
#include "errors.h"
#include "sampler.h"
#include "scheduler-job.h"

#include <algorithm>

namespace effect_llama {

namespace {

// Prompt lookup: the tokens after the latest earlier occurrence of the sequence's last n tokens.
class ngram_drafter final : public speculator {
public:
    explicit ngram_drafter(speculative_options o) : speculator(std::move(o)) {}

    std::vector<llama_token> propose(int32_t, const std::vector<llama_token> & history, llama_token last, int32_t n_max,
                                     const std::atomic<bool> &) override {
        const auto len = static_cast<int64_t>(history.size()) + 1;
        auto at = [&](int64_t i) { return i < static_cast<int64_t>(history.size()) ? history[i] : last; };
        const int64_t window = 8192; // look this far back at most: a step stays cheap on long sequences
        for (int64_t n = options.ngram_max; n >= options.ngram_min; n--) {
            if (len < n + 1) {
                continue;
            }
            for (int64_t p = len - n - 1; p >= 0 && p >= len - window; p--) {
                int64_t k = 0;
                while (k < n && at(p + k) == at(len - n + k)) {
                    k++;
                }
                if (k < n) {
                    continue;
                }
                std::vector<llama_token> draft;
                for (int64_t i = p + n; i < len && static_cast<int32_t>(draft.size()) < n_max; i++) {
                    draft.push_back(at(i));
                }
                if (!draft.empty()) {
                    return draft;
                }
            }
        }
        return {};
    }
};

// A small model of the same vocabulary drafts greedily; its KV cache follows each sequence's accepted tokens.
class draft_model_drafter final : public speculator {
public:
    draft_model_drafter(speculative_options o, const llama_context * target) : speculator(std::move(o)) {
        const llama_model * tgt = llama_get_model(target);
        const llama_model * dft = options.draft_model->model.get();
        const llama_vocab * tv = llama_model_get_vocab(tgt);
        const llama_vocab * dv = llama_model_get_vocab(dft);
        if (llama_vocab_n_tokens(tv) != llama_vocab_n_tokens(dv) || llama_vocab_type(tv) != llama_vocab_type(dv) ||
            llama_vocab_bos(tv) != llama_vocab_bos(dv) || llama_vocab_eos(tv) != llama_vocab_eos(dv)) {
            throw native_error(code::INVALID_ARGUMENT, "the draft model's vocabulary differs from the model's");
        }
        if (options.draft_model->options.vocab_only) {
            throw native_error(code::VOCAB_ONLY, "the draft model was loaded vocab-only");
        }
        vocab = dv;
        const uint32_t n_seq = llama_n_seq_max(target);
        llama_context_params p = llama_context_default_params();
        p.n_seq_max = n_seq;
        p.n_ctx = llama_n_ctx_seq(target) * n_seq; // every sequence gets at least the target's share
        p.n_batch = llama_n_batch(target);
        p.n_ubatch = llama_n_ubatch(target);
        p.n_threads = llama_n_threads(const_cast<llama_context *>(target));
        p.n_threads_batch = llama_n_threads_batch(const_cast<llama_context *>(target));
        p.no_perf = true;
        llama_context * raw = llama_init_from_model(options.draft_model->model.get(), p);
        if (raw == nullptr) {
            throw native_error(code::CONTEXT_CREATE_FAILED, "llama.cpp could not create the draft model's context");
        }
        ctx.reset(raw);
        pools = std::make_unique<thread_pools>(ctx.get());
        batch = llama_batch_init(static_cast<int32_t>(p.n_batch), 0, 1);
        n_batch = p.n_batch;
        have.resize(n_seq);
    }

    ~draft_model_drafter() override {
        llama_batch_free(batch);
        ctx.reset();   // before its thread pools
        pools.reset();
    }

    std::vector<llama_token> propose(int32_t seq, const std::vector<llama_token> & history, llama_token last, int32_t n_max,
                                     const std::atomic<bool> & cancel) override {
        const size_t len = history.size() + 1;
        auto at = [&](size_t i) { return i < history.size() ? history[i] : last; };
        std::vector<llama_token> & cells = have[seq];
        size_t n_common = 0;
        while (n_common < cells.size() && n_common < len && cells[n_common] == at(n_common)) {
            n_common++;
        }
        if (n_common == len) {
            n_common--; // the last token is decoded again for its logits
        }
        llama_memory_t mem = llama_get_memory(ctx.get());
        if (!llama_memory_seq_rm(mem, seq, static_cast<llama_pos>(n_common), -1)) {
            llama_memory_seq_rm(mem, seq, -1, -1);
            n_common = 0;
        }
        cells.resize(n_common);
        // Catch up with what the target accepted since the last draft.
        for (size_t i = n_common; i < len;) {
            const size_t n = std::min<size_t>(n_batch, len - i);
            common_batch_clear(batch);
            for (size_t k = 0; k < n; k++) {
                common_batch_add(batch, at(i + k), static_cast<llama_pos>(i + k), {seq}, i + k + 1 == len);
            }
            if (!decode(cancel)) {
                return {};
            }
            for (size_t k = 0; k < n; k++) {
                cells.push_back(at(i + k));
            }
            i += n;
        }
        std::vector<llama_token> draft;
        int32_t output = batch.n_tokens - 1;
        const int32_t n_vocab = llama_vocab_n_tokens(vocab);
        while (static_cast<int32_t>(draft.size()) < n_max) {
            const float * logits = llama_get_logits_ith(ctx.get(), output);
            if (logits == nullptr) {
                break;
            }
            const llama_token t = argmax_token(logits, n_vocab);
            if (llama_vocab_is_eog(vocab, t)) {
                break; // an end is the target's to decide
            }
            draft.push_back(t);
            if (static_cast<int32_t>(draft.size()) == n_max) {
                break;
            }
            common_batch_clear(batch);
            common_batch_add(batch, t, static_cast<llama_pos>(len + draft.size() - 1), {seq}, true);
            if (!decode(cancel)) {
                break;
            }
            cells.push_back(t);
            output = 0;
        }
        return draft;
    }

private:
    bool decode(const std::atomic<bool> & cancel) {
        compute_turn turn(compute_budget::global(), batch.n_tokens == 1 ? llama_n_threads(ctx.get()) : llama_n_threads_batch(ctx.get()), cancel);
        if (!turn.granted() || llama_decode(ctx.get(), batch) != 0) {
            // Whatever this batch added is dropped with the rest at the next catch-up.
            for (auto & c : have) {
                c.clear();
            }
            llama_memory_clear(llama_get_memory(ctx.get()), true);
            return false;
        }
        return true;
    }

    std::unique_ptr<thread_pools> pools; // declared before ctx: freed after it
    llama_context_ptr ctx;
    const llama_vocab * vocab = nullptr;
    llama_batch batch{};
    uint32_t n_batch = 0;
    std::vector<std::vector<llama_token>> have; // per sequence: the tokens in the draft's KV cache
};

} // namespace

std::unique_ptr<speculator> speculator::create(const speculative_options & options, const llama_context * target) {
    switch (options.kind) {
        case speculative_options::NGRAM:
            return std::make_unique<ngram_drafter>(options);
        case speculative_options::DRAFT_MODEL:
            return std::make_unique<draft_model_drafter>(options, target);
        default:
            return nullptr;
    }
}

void scheduler::plan_draft(job & j, int64_t room) {
    const auto positions = static_cast<int64_t>(n_ctx_seq) - 1 - j.n_past; // drafts sit at n_past + 1 ...
    const int64_t left = j.gen.max_tokens >= 0 ? j.gen.max_tokens - j.n_generated - 1 : INT64_MAX;
    const auto n = static_cast<int32_t>(std::min<int64_t>({spec->n_max(), room, positions, left}));
    if (n <= 0) {
        return;
    }
    const int32_t seq = j.gen.sequence;
    std::vector<llama_token> draft;
    try {
        abort_guard guard;
        draft = spec->propose(seq, slots[seq].cached, j.next_token, n, abort_pending);
    } catch (const std::exception &) {
        return; // a drafter that fails drafts nothing; the target decodes on
    }
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    for (llama_token t : draft) {
        if (static_cast<int32_t>(j.draft.size()) == n || t < 0 || t >= n_vocab) {
            break;
        }
        j.draft.push_back(t); // step() puts it in the batch after the job's next token
    }
}

void scheduler::verify_draft(job & j, event_batch & out) {
    const int32_t seq = j.gen.sequence;
    slot & s = slots[seq];
    s.cached.push_back(j.next_token);
    j.n_past++;
    const auto k = static_cast<int32_t>(j.draft.size());
    j.n_drafted += k;
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    // The same picks as scheduler::after_decode, one per position, until the target disagrees with the draft.
    try {
        abort_guard guard;
        for (int32_t i = 0; i <= k; i++) {
            const int32_t idx = j.batch_output + i;
            llama_token token;
            if (j.greedy) {
                const float * logits = llama_get_logits_ith(ctx.get(), idx);
                if (logits == nullptr) {
                    throw native_error(code::SAMPLING_ERROR, "no logits for batch index " + std::to_string(idx));
                }
                token = argmax_token(logits, n_vocab);
            } else {
                token = common_sampler_sample(j.sampler.get(), ctx.get(), idx);
                common_sampler_accept(j.sampler.get(), token, true);
            }
            if (!j.gen.ignore_eog && llama_vocab_is_eog(vocab, token)) {
                finish(j, "eog", out);
                break;
            }
            j.n_generated++;
            const bool special = std::find(j.preserved.begin(), j.preserved.end(), token) != j.preserved.end();
            job_event ev;
            ev.kind = job_event::TOKEN;
            ev.job = j.id;
            ev.token = token;
            ev.text = j.text->push(common_token_to_piece(ctx.get(), token, special));
            out.push_back(std::move(ev));
            j.unacked.fetch_add(1);
            if (i < k && token == j.draft[i]) {
                s.cached.push_back(token); // the drafted token's cell holds what decoding it alone would have made
                j.n_past++;
                j.n_accepted++;
            } else {
                j.next_token = token;
            }
            if (j.text->stopped()) {
                finish(j, "stop", out);
                break;
            }
            if (j.gen.max_tokens >= 0 && j.n_generated >= j.gen.max_tokens) {
                finish(j, "length", out);
                break;
            }
            if (i == k || token != j.draft[i]) {
                break;
            }
        }
    } catch (const native_error & e) {
        fail(j, e.code, std::string("sampling failed: ") + e.what(), out);
        return;
    } catch (const std::exception & e) {
        fail(j, code::SAMPLING_ERROR, std::string("sampling failed: ") + e.what(), out);
        return;
    }
    // Cells of the rejected drafts go; the sequence goes on from its last accepted token.
    llama_memory_seq_rm(llama_get_memory(ctx.get()), seq, j.n_past, -1);
}

} // namespace effect_llama
