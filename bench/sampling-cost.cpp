// Diagnostic (not part of `npm run bench`): what the addon's per-sequence sampling costs in batched generation.
// Runs llama-batched-bench's generation loop (npl sequences, one token each per decode) three ways:
//   decode only (what llama-batched-bench measures), decode + common_sampler_sample per sequence with greedy
//   settings (temperature 0, other options default: what addon/scheduler.cpp did for every job before its plain
//   greedy path, and still does for other sampling), decode + argmax over the logits per sequence (that path).
// Same context as the bench's parallel case: ctx 4096, batch/ubatch 512, 8 sequences, non-unified KV.
//
// Build (after `npm run bench` has built bench/.build) and run, from the repository root:
//   V=vendor/llama.cpp B=bench/.build
//   g++ -O3 -march=native -std=c++17 bench/sampling-cost.cpp -I$V/include -I$V/common -I$V/ggml/include \
//     -o bench/.build/sampling-cost $B/common/libllama-common.a $B/common/libllama-common-base.a $B/src/libllama.a \
//     $B/ggml/src/libggml.a $B/ggml/src/libggml-cpu.a $B/ggml/src/libggml-base.a -lpthread
//   bench/.build/sampling-cost .cache/models/bench-0.5b-*.gguf 8 [threads=2] [reps=5]
#include "common.h"
#include "llama.h"
#include "sampling.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL NPL [THREADS] [REPS]\n", argv[0]);
        return 1;
    }
    const int npl = atoi(argv[2]);
    const int threads = argc > 3 ? atoi(argv[3]) : 2;
    const int reps = argc > 4 ? atoi(argv[4]) : 5;
    const int npp = 32, ntg = 32;

    llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (model == nullptr) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 4096;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = 8;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_batch batch = llama_batch_init(4096, 0, 8);

    common_params_sampling sp; // as addon/sampler.cpp builds it for { temperature: 0 }
    sp.temp = 0;
    std::vector<common_sampler *> samplers(npl);
    for (auto & s : samplers) {
        s = common_sampler_init(model, sp);
    }

    const char * names[] = {"decode only (llama-batched-bench)", "common_sampler per sequence (addon)",
                            "argmax per sequence"};
    for (int variant = 0; variant < 3; variant++) {
        double best_tg = 0, best_sample = 1e9;
        for (int rep = 0; rep < reps; rep++) {
            llama_memory_clear(llama_get_memory(ctx), true);
            common_batch_clear(batch);
            for (int j = 0; j < npl; j++) {
                for (int i = 0; i < npp; i++) {
                    common_batch_add(batch, (rep * 977 + j * 131 + i * 31) % 150000, i, {j}, i == npp - 1);
                }
            }
            llama_decode(ctx, batch);
            std::vector<llama_token> next(npl, 1234);
            double t_sample = 0;
            const double t0 = now_ms();
            for (int i = 0; i < ntg; i++) {
                common_batch_clear(batch);
                for (int j = 0; j < npl; j++) {
                    common_batch_add(batch, next[j], npp + i, {j}, true);
                }
                llama_decode(ctx, batch);
                llama_synchronize(ctx);
                const double a = now_ms();
                for (int j = 0; j < npl; j++) {
                    if (variant == 0) {
                        next[j] = (next[j] * 31 + 7) % 150000;
                    } else if (variant == 1) {
                        next[j] = common_sampler_sample(samplers[j], ctx, j);
                        common_sampler_accept(samplers[j], next[j], true);
                    } else {
                        const float * logits = llama_get_logits_ith(ctx, j);
                        next[j] = static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits);
                    }
                }
                t_sample += now_ms() - a;
            }
            const double t = now_ms() - t0;
            best_tg = std::max(best_tg, npl * ntg / t * 1000);
            best_sample = std::min(best_sample, t_sample / ntg);
        }
        printf("npl %d, %-38s best S_TG %6.1f t/s, sampling %.2f ms per step\n", npl, names[variant], best_tg, best_sample);
    }
    for (auto * s : samplers) {
        common_sampler_free(s);
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
