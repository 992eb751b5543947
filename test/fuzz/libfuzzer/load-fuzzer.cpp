// libFuzzer target: bytes -> a GGUF file -> the addon's model load path -> (when it loads) a context and a short
// decode. A finding is anything the addon would not turn into a typed error: a sanitizer report, a crash, a hang
// (libFuzzer's -timeout), or an abort outside an abort_guard. A guarded GGML_ABORT is the expected, typed outcome.
#include "abort-guard.h"
#include "errors.h"
#include "model-checks.h"

#include "llama.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string input_path;

void quiet(enum ggml_log_level, const char *, void *) {}

// model.cpp's load_guarded, with the same outcomes: null (llama.cpp's own error), a native_error, or a model.
llama_model * load(const std::string & path) {
    llama_model_params params = llama_model_default_params();
    params.load_mode = LLAMA_LOAD_MODE_NONE; // read, not mmap: the file is rewritten for every input
    effect_llama::abort_guard guard;
    llama_model * model = nullptr;
    try {
        model = llama_model_load_from_file(path.c_str(), params);
    } catch (const effect_llama::native_error &) {
        model = nullptr;
    }
    if (guard.tripped() && model != nullptr) {
        llama_model_free(model);
        return nullptr;
    }
    if (model != nullptr) {
        try {
            effect_llama::check_loaded_model(model, path);
        } catch (const effect_llama::native_error &) {
            llama_model_free(model);
            return nullptr;
        }
    }
    return model;
}

// The scheduler's first steps: a context, a prompt, two greedy tokens, all under the guard.
void generate(llama_model * model) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = 32;
    cp.n_ubatch = 32;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.no_perf = true;
    effect_llama::abort_guard guard;
    try {
        llama_context * ctx = llama_init_from_model(model, cp);
        if (ctx == nullptr) {
            return;
        }
        const llama_vocab * vocab = llama_model_get_vocab(model);
        std::vector<llama_token> tokens(32);
        const std::string text = "Hello world";
        int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(), 32, true, true);
        const int32_t n_vocab = llama_vocab_n_tokens(vocab);
        if (n > 0 && n < static_cast<int32_t>(cp.n_ctx) - 4) {
            tokens.resize(n);
            for (int step = 0; step < 2; step++) {
                llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
                if (llama_decode(ctx, batch) != 0) {
                    break;
                }
                const float * logits = llama_get_logits_ith(ctx, -1);
                llama_token best = 0;
                for (llama_token t = 1; logits != nullptr && t < n_vocab; t++) {
                    best = logits[t] > logits[best] ? t : best;
                }
                tokens.assign(1, best);
                char piece[64];
                llama_token_to_piece(vocab, best, piece, sizeof(piece), 0, true);
            }
        }
        llama_free(ctx);
    } catch (const effect_llama::native_error &) {
        // a guarded abort mid-decode: the addon marks the context unusable and frees it at dispose
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    llama_log_set(quiet, nullptr);
    effect_llama::abort_guard_install();
    llama_backend_init();
    input_path = "/dev/shm/effect-llama-fuzz-" + std::to_string(getpid()) + ".gguf";
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FILE * f = std::fopen(input_path.c_str(), "wb");
    if (f == nullptr) {
        return 0;
    }
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    if (llama_model * model = load(input_path)) {
        generate(model);
        llama_model_free(model);
    }
    return 0;
}
