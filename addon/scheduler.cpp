#include "scheduler.h"

#include "abort-guard.h"
#include "common.h"
#include "compute-budget.h"
#include "errors.h"
#include "scheduler-job.h"
#include "speculative.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace effect_llama {

namespace {

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Requests that arrive together (a server's clients all answered at the same step) should be evaluated in one
// step, not the first alone and the rest a whole prompt step later. A job that arrives within MERGE_MS of the start of
// a prompt-only step stops it (nothing is lost: the step is rolled back and run again with the newcomer), and the
// scheduler then waits for more while they come less than GAP_MS apart; a burst delays its first step by at
// most BURST_MS. A lone request never waits.
constexpr double MERGE_MS = 30;
constexpr double BURST_MS = 60;
constexpr auto GAP_MS = std::chrono::milliseconds(5);

// Re-evaluating a few cached prompt tokens costs less than the extra graph an unequal chunk makes.
constexpr size_t MAX_REWIND = 8;

} // namespace

scheduler::scheduler(std::shared_ptr<model_state> model, llama_context_ptr ctx_in, emit_fn emit,
                     std::unique_ptr<speculator> spec_in, lora_set lora)
    : model(std::move(model)), ctx(std::move(ctx_in)), emit(std::move(emit)), default_lora(std::move(lora)),
      spec(std::move(spec_in)) {
    pools = std::make_unique<thread_pools>(ctx.get());
    vocab = llama_model_get_vocab(this->model->model.get());
    n_batch = llama_n_batch(ctx.get());
    n_ctx_seq = llama_n_ctx_seq(ctx.get());
    slots.resize(llama_n_seq_max(ctx.get()));
    unified_kv = slots.size() == 1 || n_ctx_seq == llama_n_ctx(ctx.get()); // per-sequence streams split the context
    batch = llama_batch_init(static_cast<int32_t>(n_batch), 0, static_cast<int32_t>(slots.size()));
    llama_set_abort_callback(ctx.get(), abort_callback, this);
    thread = std::thread([this] { run(); });
}

scheduler::~scheduler() {
    stop();
    join();
    llama_batch_free(batch);
}

bool scheduler::abort_callback(void * data) {
    return static_cast<scheduler *>(data)->abort_pending.load(std::memory_order_relaxed);
}

uint32_t scheduler::submit(generate_request request) {
    auto j = std::make_shared<job>();
    j->gen = std::move(request);
    return enqueue(j);
}

uint32_t scheduler::submit(embed_request request) {
    auto j = std::make_shared<job>();
    j->is_embed = true;
    j->emb = std::move(request);
    return enqueue(j);
}

uint32_t scheduler::enqueue(const std::shared_ptr<job> & j) {
    std::lock_guard<std::mutex> lock(mutex);
    j->id = next_id++;
    jobs[j->id] = j;
    incoming.push_back(j);
    // Embeddings and images are evaluated on their own when they start: only a text prompt can join the step.
    if (!j->is_embed && !j->gen.media && now_ms() < merge_until.load(std::memory_order_relaxed)) {
        merge_until.store(0, std::memory_order_relaxed);
        merging = true;
        abort_pending.store(true); // the prompt-only step under way stops and runs again with this job
        compute_budget::global().poke();
    }
    wake.notify_one();
    return j->id;
}

bool scheduler::abort(uint32_t job_id) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = jobs.find(job_id);
    if (it == jobs.end()) {
        return false;
    }
    it->second->aborted.store(true);
    abort_pending.store(true);
    wake.notify_one();
    compute_budget::global().poke(); // a decode waiting for its turn gives it up
    return true;
}

void scheduler::ack(uint32_t job_id, int32_t events) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = jobs.find(job_id);
    if (it == jobs.end() || events <= 0) {
        return;
    }
    it->second->unacked.fetch_sub(events);
    wake.notify_one();
}

// A generating job whose consumer lags `window` token events behind waits; prompts and aborts always proceed.
bool scheduler::runnable(const job & j) const {
    return !j.decoding || j.gen.window <= 0 || j.unacked.load() < j.gen.window || j.aborted.load();
}

void scheduler::stop() {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
    for (auto & [id, j] : jobs) {
        j->aborted.store(true);
    }
    abort_pending.store(true);
    wake.notify_one();
    compute_budget::global().poke();
}

std::future<void> scheduler::call(std::function<void()> fn) {
    auto t = std::make_shared<task>();
    t->fn = std::move(fn);
    std::future<void> done = t->done.get_future();
    std::lock_guard<std::mutex> lock(mutex);
    if (stopping) {
        t->done.set_exception(std::make_exception_ptr(native_error(code::DISPOSED, "the context is disposed")));
    } else {
        tasks.push_back(t);
        wake.notify_one();
    }
    return done;
}

void scheduler::set_lora(lora_set lora) {
    std::lock_guard<std::mutex> lock(mutex);
    default_lora = std::move(lora);
}

void scheduler::join() {
    if (thread.joinable()) {
        thread.join();
    }
}

void scheduler::run() {
    while (true) {
        std::vector<std::shared_ptr<job>> fresh;
        std::vector<std::shared_ptr<task>> pending;
        bool exiting = false;
        {
            std::unique_lock<std::mutex> lock(mutex);
            auto has_work = [&] {
                return stopping || !incoming.empty() || !tasks.empty() ||
                       std::any_of(running.begin(), running.end(), [&](auto & j) { return runnable(*j); });
            };
            if (!has_work()) {
                pools->pause(); // idle or waiting for a slow consumer: the compute threads sleep instead of polling
                wake.wait(lock, has_work);
            }
            if (merging) {
                merging = false;
                size_t seen = incoming.size();
                while (!stopping && now_ms() < burst_started + BURST_MS &&
                       wake.wait_for(lock, GAP_MS, [&] { return stopping || incoming.size() > seen; })) {
                    seen = incoming.size();
                }
            }
            fresh.assign(incoming.begin(), incoming.end());
            incoming.clear();
            pending.assign(tasks.begin(), tasks.end());
            tasks.clear();
            exiting = stopping;
            // Cleared before the abort flags are read below, so a later abort still stops the next graph.
            abort_pending.store(false);
        }
        for (auto & t : pending) {
            if (exiting) {
                t->done.set_exception(std::make_exception_ptr(native_error(code::DISPOSED, "the context is disposed")));
                continue;
            }
            try {
                t->fn();
                t->done.set_value();
            } catch (...) {
                t->done.set_exception(std::current_exception());
            }
        }
        event_batch out;
        for (auto & j : fresh) {
            start(j, out);
        }
        for (auto & j : running) {
            if (!j->finished && (exiting || j->aborted.load())) {
                finish(*j, "abort", out);
            }
        }
        running.erase(std::remove_if(running.begin(), running.end(), [](auto & j) { return j->finished; }), running.end());
        if (!running.empty()) {
            step(out);
            running.erase(std::remove_if(running.begin(), running.end(), [](auto & j) { return j->finished; }), running.end());
        }
        if (!out.empty()) {
            emit(std::make_unique<event_batch>(std::move(out)));
        }
        if (exiting) {
            return;
        }
    }
}

void scheduler::start(const std::shared_ptr<job> & j, event_batch & out) {
    if (j->aborted.load()) {
        finish(*j, "abort", out);
        return;
    }
    if (!broken.empty()) {
        fail(*j, code::INTERNAL, "the context is unusable since llama.cpp aborted a decode: " + broken, out);
        return;
    }
    if (j->is_embed) {
        abort_guard guard;
        try {
            run_embed(*j, out);
        } catch (const native_error & e) {
            if (guard.tripped()) {
                broken = e.what(); // mid-decode: llama.cpp's state cannot be trusted any more
            }
            fail(*j, e.code, e.what(), out);
        } catch (const std::exception & e) {
            fail(*j, code::INTERNAL, e.what(), out);
        }
        return;
    }
    int32_t seq = j->gen.sequence;
    if (seq < 0 || static_cast<size_t>(seq) >= slots.size()) {
        fail(*j, code::INVALID_ARGUMENT, "sequence " + std::to_string(seq) + " does not exist", out);
        return;
    }
    if (slots[seq].active) {
        fail(*j, code::SEQUENCE_BUSY, "sequence " + std::to_string(seq) + " is already generating", out);
        return;
    }
    if (j->gen.media) {
        start_media(j, out); // vision.cpp: the whole multimodal prompt is evaluated now
        return;
    }
    try {
        abort_guard guard;
        start_generate(*j);
    } catch (const native_error & e) {
        fail(*j, e.code, e.what(), out);
        return;
    } catch (const std::exception & e) {
        fail(*j, code::INTERNAL, e.what(), out);
        return;
    }
    slots[seq].active = j;
    running.push_back(j);
}

void scheduler::start_generate(job & j) {
    j.t_start = now_ms();
    generate_request & g = j.gen;
    j.prompt = g.text.empty() ? g.tokens : common_tokenize(vocab, g.text, g.add_special, g.parse_special);
    if (j.prompt.empty()) {
        throw native_error(code::INVALID_ARGUMENT, "the prompt is empty");
    }
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    for (llama_token t : j.prompt) {
        if (t < 0 || t >= n_vocab) {
            throw native_error(code::INVALID_ARGUMENT, "prompt token " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    if (j.prompt.size() >= n_ctx_seq) {
        throw native_error(code::CONTEXT_OVERFLOW, "the prompt has " + std::to_string(j.prompt.size()) +
                                                       " tokens; a sequence of this context holds " +
                                                       std::to_string(n_ctx_seq) + " (one must be left to generate)");
    }
    j.sampler = make_sampler(model->model.get(), g.sampling, j.preserved);
    j.greedy = is_plain_greedy(model->model.get(), g.sampling);
    if (!j.greedy) {
        for (llama_token t : j.prompt) {
            common_sampler_accept(j.sampler.get(), t, false); // penalties see the prompt, as in llama-server
        }
    }
    j.text = std::make_unique<text_stream>(g.stops);

    if (g.lora) {
        j.lora = *g.lora;
    } else {
        std::lock_guard<std::mutex> lock(mutex);
        j.lora = default_lora;
    }
    // Prefix reuse: keep the KV cells this sequence already holds for the common prefix.
    slot & s = slots[g.sequence];
    size_t n_common = 0;
    while (n_common < s.cached.size() && n_common < j.prompt.size() && s.cached[n_common] == j.prompt[n_common]) {
        n_common++;
    }
    if (n_common == j.prompt.size()) {
        n_common--; // the last prompt token is evaluated again for its logits
    }
    if (s.opaque || !same_lora(s.lora, j.lora)) {
        n_common = 0; // cells made with other adapters, or holding images, cannot be reused
    }
    s.opaque = false;
    s.lora = j.lora;
    llama_memory_t mem = llama_get_memory(ctx.get());
    if (!llama_memory_seq_rm(mem, g.sequence, static_cast<llama_pos>(n_common), -1)) {
        llama_memory_seq_rm(mem, g.sequence, -1, -1); // e.g. recurrent state: no partial removal
        n_common = 0;
    }
    s.cached.resize(n_common);
    j.n_prompt_done = n_common;
    j.n_cached = static_cast<int32_t>(n_common);
    j.n_past = static_cast<llama_pos>(n_common);
}

bool scheduler::step(event_batch & out) {
    common_batch_clear(batch);
    for (auto & j : running) {
        j->batch_output = -1;
        j->batch_prompt = 0;
        j->batch_start = -1;
        j->draft.clear();
    }
    // One adapter set per decode: the set of the job served longest ago; jobs with another set wait a step.
    const lora_set * batch_lora = nullptr;
    uint64_t oldest = UINT64_MAX;
    for (auto & j : running) {
        if (!j->finished && (!j->decoding || runnable(*j)) && j->served < oldest) {
            oldest = j->served;
            batch_lora = &j->lora;
        }
    }
    auto in_batch = [&](const job & j) { return batch_lora == nullptr || same_lora(j.lora, *batch_lora); };
    // What each job puts in this batch: generating sequences their next token (one each, for low latency) and a
    // draft, then prompt chunks in arrival order as far as the batch holds (a long prompt is split over steps).
    std::vector<job *> chosen;
    for (auto & j : running) {
        if (!j->decoding || !runnable(*j) || !in_batch(*j)) {
            continue;
        }
        if (static_cast<uint32_t>(j->n_past) >= n_ctx_seq) {
            finish(*j, "length", out); // the sequence's share of the context is full
            continue;
        }
        chosen.push_back(j.get());
    }
    // Every generating sequence's token fits (the context has no more sequences than batch slots); drafts share
    // what is left, so one sequence's draft never pushes another's token out of the step.
    size_t planned = chosen.size();
    if (spec) {
        for (job * j : chosen) {
            if (j->gen.speculative) {
                plan_draft(*j, static_cast<int64_t>(n_batch) - static_cast<int64_t>(planned)); // verified after the decode
                planned += j->draft.size();
            }
        }
    }
    for (auto & j : running) {
        if (j->decoding || j->finished || !in_batch(*j)) {
            continue;
        }
        if (planned == n_batch) {
            break;
        }
        j->batch_prompt = std::min(n_batch - planned, j->prompt.size() - j->n_prompt_done);
        planned += j->batch_prompt;
        chosen.push_back(j.get());
    }
    // Into the batch in ascending sequence order: without a unified KV cache llama.cpp puts only runs of
    // consecutive sequence ids in one ubatch, and arrival order split 8 sequences' step into several graphs.
    std::sort(chosen.begin(), chosen.end(), [](const job * a, const job * b) { return a->gen.sequence < b->gen.sequence; });
    equalize_prompts(chosen, planned);
    for (job * j : chosen) {
        const llama_seq_id seq = j->gen.sequence;
        j->batch_start = j->n_past;
        if (j->decoding) {
            j->batch_output = batch.n_tokens;
            common_batch_add(batch, j->next_token, j->n_past, {seq}, true);
            for (size_t i = 0; i < j->draft.size(); i++) {
                common_batch_add(batch, j->draft[i], j->n_past + 1 + static_cast<llama_pos>(i), {seq}, true);
            }
            continue;
        }
        for (size_t i = 0; i < j->batch_prompt; i++) {
            size_t at = j->n_prompt_done + i;
            bool last = at + 1 == j->prompt.size();
            if (last) {
                j->batch_output = batch.n_tokens;
            }
            common_batch_add(batch, j->prompt[at], j->n_past + static_cast<llama_pos>(i), {seq}, last);
        }
    }
    if (batch.n_tokens == 0) {
        return false;
    }

    if (batch_lora != nullptr && !same_lora(applied_lora, *batch_lora)) {
        apply_lora(ctx.get(), *batch_lora);
        applied_lora = *batch_lora;
    }
    // Only a step with room left can take a newcomer's prompt: a full one would run again without it.
    const bool prompt_only = std::none_of(chosen.begin(), chosen.end(), [](const job * j) { return j->decoding; });
    if (prompt_only && static_cast<uint32_t>(batch.n_tokens) < n_batch) {
        const double t = now_ms();
        if (burst_started == 0) {
            burst_started = t;
        }
        merge_until.store(std::min(t + MERGE_MS, burst_started + BURST_MS), std::memory_order_relaxed);
    } else {
        burst_started = 0;
    }
    struct merge_window_end {
        std::atomic<double> & until;
        ~merge_window_end() { until.store(0, std::memory_order_relaxed); }
    } window_end{merge_until};
    int32_t ret = 0;
    if (compute_budget::global().contended()) {
        pools->pause(); // another context computes: this one's threads sleep instead of polling while it waits
    }
    try {
        compute_turn turn(compute_budget::global(), threads_for(batch.n_tokens), abort_pending);
        if (!turn.granted()) {
            return false; // an abort came while waiting: it is handled at the top of the next turn, the rest retry
        }
        abort_guard guard;
        ret = llama_decode(ctx.get(), batch);
    } catch (const std::exception & e) {
        // An abort mid-decode (on this thread) leaves llama.cpp's state unknown: fail every job, serve no more.
        broken = e.what();
        for (auto & j : running) {
            if (!j->finished) {
                fail(*j, code::INTERNAL, broken, out);
            }
        }
        return false;
    }
    if (ret != 0) {
        rollback_batch();
        if (ret == 2) {
            return false; // aborted mid-graph: the aborted jobs finish at the top of the next turn, the rest retry
        }
        const char * err = ret == 1 ? code::NO_KV_SLOT : ret == -1 ? code::INVALID_BATCH : code::COMPUTE_ERROR;
        std::string message = ret == 1 ? "no KV cache slot for the batch (the context is full)"
                            : ret == -1 ? "llama_decode rejected the batch as invalid"
                            : "llama_decode failed with code " + std::to_string(ret);
        for (auto & j : running) {
            if (j->batch_start >= 0 && !j->finished) {
                fail(*j, err, message, out);
            }
        }
        return false;
    }
    burst_started = 0;
    for (auto & j : running) {
        if (j->batch_start < 0 || j->finished) {
            continue;
        }
        j->served = ++n_steps;
        slot & s = slots[j->gen.sequence];
        if (!j->draft.empty()) {
            verify_draft(*j, out); // speculative.cpp: keeps the accepted cells, emits the accepted tokens
            continue;
        }
        if (j->batch_prompt > 0) {
            s.cached.insert(s.cached.end(), j->prompt.begin() + static_cast<std::ptrdiff_t>(j->n_prompt_done),
                            j->prompt.begin() + static_cast<std::ptrdiff_t>(j->n_prompt_done + j->batch_prompt));
            j->n_prompt_done += j->batch_prompt;
            j->n_past += static_cast<llama_pos>(j->batch_prompt);
        } else if (j->decoding) {
            s.cached.push_back(j->next_token);
            j->n_past++;
        }
        if (j->batch_output >= 0) {
            // A sampler or grammar that breaks (an exception, or a guarded GGML_ASSERT) fails this job only.
            try {
                abort_guard guard;
                after_decode(*j, out);
            } catch (const native_error & e) {
                fail(*j, e.code, std::string("sampling failed: ") + e.what(), out);
            } catch (const std::exception & e) {
                fail(*j, code::SAMPLING_ERROR, std::string("sampling failed: ") + e.what(), out);
            }
        }
    }
    return true;
}

// llama.cpp computes single-token batches with n_threads and larger ones with n_threads_batch.
int32_t scheduler::threads_for(int32_t n_tokens) const {
    return n_tokens == 1 ? llama_n_threads(ctx.get()) : llama_n_threads_batch(ctx.get());
}

void scheduler::after_decode(job & j, event_batch & out) {
    if (!j.decoding) {
        j.decoding = true;
        j.t_prefill_end = now_ms();
    }
    llama_token token;
    if (j.greedy) {
        // common_sampler would copy and sort every logit for the same answer: 4.5% of 8-sequence throughput.
        const float * logits = llama_get_logits_ith(ctx.get(), j.batch_output);
        if (logits == nullptr) {
            throw native_error(code::SAMPLING_ERROR, "no logits for batch index " + std::to_string(j.batch_output));
        }
        token = argmax_token(logits, llama_vocab_n_tokens(vocab));
    } else {
        token = common_sampler_sample(j.sampler.get(), ctx.get(), j.batch_output);
        // Every candidate masked (bias, grammar): the sampler still returns one; that is no generation.
        const llama_token_data_array * cur = common_sampler_get_candidates(j.sampler.get(), false);
        if (cur != nullptr && cur->selected >= 0 && static_cast<size_t>(cur->selected) < cur->size &&
            cur->data[cur->selected].logit == -INFINITY) {
            throw native_error(code::SAMPLING_ERROR, "every token is masked (logit bias or grammar): nothing can be sampled");
        }
        common_sampler_accept(j.sampler.get(), token, true);
    }
    if (!j.gen.ignore_eog && llama_vocab_is_eog(vocab, token)) {
        finish(j, "eog", out);
        return;
    }
    j.n_generated++;
    bool special = std::find(j.preserved.begin(), j.preserved.end(), token) != j.preserved.end();
    job_event ev;
    ev.kind = job_event::TOKEN;
    ev.job = j.id;
    ev.token = token;
    ev.text = j.text->push(common_token_to_piece(ctx.get(), token, special));
    out.push_back(std::move(ev));
    j.unacked.fetch_add(1);
    if (j.text->stopped()) {
        finish(j, "stop", out);
    } else if (j.gen.max_tokens >= 0 && j.n_generated >= j.gen.max_tokens) {
        finish(j, "length", out);
    } else {
        j.next_token = token;
    }
}

void scheduler::finish(job & j, const char * reason, event_batch & out) {
    job_event ev;
    ev.kind = job_event::DONE;
    ev.job = j.id;
    ev.reason = reason;
    if (!j.is_embed) {
        double t_end = now_ms();
        ev.text = j.text ? j.text->flush() : std::string();
        ev.stop = j.text && j.text->stopped() ? j.text->matched_stop() : std::string();
        ev.prompt_tokens = static_cast<int32_t>(j.prompt.size());
        ev.cached_tokens = j.n_cached;
        ev.completion_tokens = j.n_generated;
        double prefill_end = j.t_prefill_end > 0 ? j.t_prefill_end : t_end;
        ev.prefill_ms = j.t_start > 0 ? prefill_end - j.t_start : 0;
        ev.generate_ms = j.t_prefill_end > 0 ? t_end - j.t_prefill_end : 0;
        ev.image_tokens = j.n_image_tokens;
        ev.speculative = spec != nullptr && j.gen.speculative;
        ev.drafted = j.n_drafted;
        ev.accepted = j.n_accepted;
    }
    out.push_back(std::move(ev));
    if (std::string(reason) == "abort" && !j.is_embed && j.t_start > 0 && broken.empty()) {
        // The sequence's KV cells are released; a later request evaluates its prompt afresh.
        llama_memory_seq_rm(llama_get_memory(ctx.get()), j.gen.sequence, -1, -1);
        slots[j.gen.sequence].cached.clear();
    }
    release(j);
}

void scheduler::fail(job & j, const std::string & err, const std::string & message, event_batch & out) {
    job_event ev;
    ev.kind = job_event::ERROR;
    ev.job = j.id;
    ev.code = err;
    ev.message = message;
    out.push_back(std::move(ev));
    if (!j.is_embed && j.t_start > 0 && slots[j.gen.sequence].active.get() == &j && broken.empty()) {
        llama_memory_seq_rm(llama_get_memory(ctx.get()), j.gen.sequence, -1, -1);
        slots[j.gen.sequence].cached.clear();
    }
    release(j);
}

void scheduler::release(job & j) {
    j.finished = true;
    if (!j.is_embed && j.gen.sequence >= 0 && static_cast<size_t>(j.gen.sequence) < slots.size() &&
        slots[j.gen.sequence].active.get() == &j) {
        slots[j.gen.sequence].active.reset();
    }
    std::lock_guard<std::mutex> lock(mutex);
    jobs.erase(j.id);
}

// Without a unified KV cache llama.cpp splits a batch into ubatches of consecutive sequences that each put in the
// same number of tokens: prompt chunks of 11, 12 and 13 tokens become one ubatch of 11 each and a graph per leftover
// (8 such prompts on bench-0.5b: 363 ms; evened out to 13 each: 307 ms). A shorter chunk is lengthened by evaluating
// again the last cached tokens of its prompt, so a run of consecutive sequences has equal chunks and one ubatch.
void scheduler::equalize_prompts(const std::vector<job *> & chosen, size_t & planned) {
    if (unified_kv) {
        return;
    }
    std::vector<job *> prompts; // in sequence order, as `chosen` is
    for (job * j : chosen) {
        if (!j->decoding) {
            prompts.push_back(j);
        }
    }
    llama_memory_t mem = llama_get_memory(ctx.get());
    for (size_t begin = 0; begin < prompts.size();) {
        size_t end = begin + 1; // a run of consecutive sequences (a run of one has nothing to even out)
        while (end < prompts.size() && prompts[end]->gen.sequence == prompts[end - 1]->gen.sequence + 1) {
            end++;
        }
        size_t longest = 0;
        for (size_t i = begin; i < end; i++) {
            longest = std::max(longest, prompts[i]->batch_prompt);
        }
        for (size_t i = begin; i < end; i++) {
            job & j = *prompts[i];
            const size_t d = longest - j.batch_prompt;
            if (d == 0 || d > MAX_REWIND || d > j.n_prompt_done || planned + d > n_batch) {
                continue;
            }
            const llama_pos from = j.n_past - static_cast<llama_pos>(d);
            if (!llama_memory_seq_rm(mem, j.gen.sequence, from, -1)) {
                continue; // e.g. recurrent state: no partial removal
            }
            slots[j.gen.sequence].cached.resize(static_cast<size_t>(from));
            j.n_prompt_done -= d;
            j.n_past = from;
            j.n_cached = std::min(j.n_cached, static_cast<int32_t>(j.n_prompt_done));
            j.batch_prompt += d;
            planned += d;
        }
        begin = end;
    }
}

void scheduler::rollback_batch() {
    // Ubatches processed before a failure or an abort stay in memory: drop everything this batch added.
    llama_memory_t mem = llama_get_memory(ctx.get());
    for (auto & j : running) {
        if (j->batch_start >= 0) {
            llama_memory_seq_rm(mem, j->gen.sequence, j->batch_start, -1);
        }
    }
}

} // namespace effect_llama
