// Warmup: one tiny decode before the first request, as llama.cpp's common_init does, so that request does not pay
// for the weights' page faults, the compute buffers' first touch and the thread pools' start. Scheduler thread.
#include "scheduler.h"

#include "abort-guard.h"
#include "common.h"
#include "compute-budget.h"
#include "errors.h"

#include <chrono>

namespace effect_llama {

void scheduler::warmup() {
    const auto t0 = std::chrono::steady_clock::now();
    const llama_model * m = model->model.get();
    std::vector<llama_token> tokens;
    if (llama_vocab_bos(vocab) != LLAMA_TOKEN_NULL) {
        tokens.push_back(llama_vocab_bos(vocab));
    }
    if (llama_vocab_eos(vocab) != LLAMA_TOKEN_NULL) {
        tokens.push_back(llama_vocab_eos(vocab));
    }
    if (tokens.empty()) {
        tokens.push_back(0);
    }
    common_batch_clear(batch);
    for (size_t i = 0; i < tokens.size(); i++) {
        // every token outputs: an embedding context pools, a generating one computes logits of the whole batch
        common_batch_add(batch, tokens[i], static_cast<llama_pos>(i), {0}, true);
    }
    int32_t ret = 0;
    {
        compute_turn turn(compute_budget::global(), threads_for(batch.n_tokens), abort_pending); // takes its turn like any decode
        abort_guard guard;
        if (!turn.granted()) {
            ret = 2;
        } else if (llama_model_has_encoder(m)) {
            ret = llama_encode(ctx.get(), batch);
        }
        if (ret == 0 && llama_model_has_decoder(m)) {
            ret = llama_decode(ctx.get(), batch);
        }
    }
    llama_memory_clear(llama_get_memory(ctx.get()), true);
    llama_synchronize(ctx.get());
    common_batch_clear(batch);
    if (ret == 2) {
        throw native_error(code::ABORTED, "warmup: the context was disposed while warming up");
    }
    if (ret != 0) {
        throw native_error(code::COMPUTE_ERROR, "warmup: llama_decode failed with code " + std::to_string(ret));
    }
    warmed.tokens = static_cast<int32_t>(tokens.size());
    warmed.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    warmed.done = true;
    pools->pause();
}

} // namespace effect_llama
