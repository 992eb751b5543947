// Embeddings: scheduler::run_embed. Texts are packed several to a batch, one sequence each, and pooled by
// llama.cpp (mean, cls, last or rank); the batch's sequences are cleared afterwards. Scheduler thread only.
#include "scheduler.h"

#include "common.h"
#include "compute-budget.h"
#include "errors.h"
#include "scheduler-job.h"

namespace effect_llama {

std::vector<llama_token> rank_tokens(const llama_model * model, const std::string & query, const std::string & document); // rank.cpp

void scheduler::run_embed(job & j, event_batch & out) {
    if (llama_pooling_type(ctx.get()) == LLAMA_POOLING_TYPE_NONE) {
        throw native_error(code::NOT_EMBEDDING_CONTEXT,
                           "embed needs a context created with embeddings: true and a pooling type other than none");
    }
    const llama_model * m = model->model.get();
    const bool encoder_only = llama_model_has_encoder(m) && !llama_model_has_decoder(m);
    // Pooling happens per ubatch: a text split over two ubatches would be pooled over part of it. So every
    // decode here is one ubatch (the context also uses a unified KV cache, which keeps sequences together).
    const size_t max_tokens = llama_n_ubatch(ctx.get());
    const size_t n_seq = slots.size();
    // A rank head pools to its class scores instead of a vector of n_embd.
    const bool rank = llama_pooling_type(ctx.get()) == LLAMA_POOLING_TYPE_RANK;
    const int32_t n_embd = rank ? static_cast<int32_t>(llama_model_n_cls_out(m)) : llama_model_n_embd_out(m);

    job_event result;
    result.kind = job_event::EMBEDDINGS;
    result.job = j.id;
    result.vectors.resize(j.emb.texts.size());
    // A text that cannot be embedded fails alone (its index is reported); the others are embedded.
    std::vector<std::vector<llama_token>> inputs;
    std::vector<size_t> index_of; // inputs[k] is text index_of[k]
    for (size_t t = 0; t < j.emb.texts.size(); t++) {
        std::vector<llama_token> tokens = !j.emb.rank_queries.empty() ? rank_tokens(m, j.emb.rank_queries[t], j.emb.texts[t])
                                                           : common_tokenize(vocab, j.emb.texts[t], j.emb.add_special, j.emb.parse_special);
        if (tokens.empty()) {
            result.failures.push_back({t, code::INVALID_ARGUMENT, "text " + std::to_string(t) + " produced no tokens"});
        } else if (tokens.size() > max_tokens) {
            result.failures.push_back({t, code::CONTEXT_OVERFLOW,
                                       "text " + std::to_string(t) + " has " + std::to_string(tokens.size()) +
                                           " tokens; the context embeds at most " + std::to_string(max_tokens) +
                                           " per text (ubatch size)"});
        } else {
            inputs.push_back(std::move(tokens));
            index_of.push_back(t);
        }
    }

    llama_memory_t mem = llama_get_memory(ctx.get());
    size_t next = 0;
    while (next < inputs.size()) {
        if (j.aborted.load()) {
            finish(j, "abort", out);
            return;
        }
        common_batch_clear(batch);
        size_t first = next;
        while (next < inputs.size() && next - first < n_seq &&
               static_cast<size_t>(batch.n_tokens) + inputs[next].size() <= max_tokens) {
            const auto seq = static_cast<llama_seq_id>(next - first);
            for (size_t i = 0; i < inputs[next].size(); i++) {
                common_batch_add(batch, inputs[next][i], static_cast<llama_pos>(i), {seq}, true);
            }
            next++;
        }
        llama_memory_clear(mem, true);
        int32_t ret = 2;
        if (compute_budget::global().contended()) {
            pools->pause();
        }
        {
            compute_turn turn(compute_budget::global(), threads_for(batch.n_tokens), j.aborted);
            if (turn.granted()) {
                ret = encoder_only ? llama_encode(ctx.get(), batch) : llama_decode(ctx.get(), batch);
            }
        }
        if (ret == 2) {
            llama_memory_clear(mem, true);
            finish(j, "abort", out);
            return;
        }
        if (ret != 0) {
            llama_memory_clear(mem, true);
            throw native_error(ret == 1 ? code::NO_KV_SLOT : code::COMPUTE_ERROR,
                               "embed: llama_decode failed with code " + std::to_string(ret));
        }
        for (size_t i = first; i < next; i++) {
            const float * e = llama_get_embeddings_seq(ctx.get(), static_cast<llama_seq_id>(i - first));
            if (e == nullptr) {
                llama_memory_clear(mem, true);
                throw native_error(code::INTERNAL, "embed: llama.cpp returned no pooled embedding");
            }
            std::vector<float> & v = result.vectors[index_of[i]];
            v.resize(static_cast<size_t>(n_embd));
            if (j.emb.normalize && !rank) {
                common_embd_normalize(e, v.data(), n_embd, 2);
            } else {
                std::copy(e, e + n_embd, v.begin());
            }
        }
    }
    llama_memory_clear(mem, true);
    out.push_back(std::move(result));
    finish(j, "done", out);
}

} // namespace effect_llama
