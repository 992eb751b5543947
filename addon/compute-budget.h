// One compute budget for the whole process: the CPU threads that llama_decode calls may use at once, shared by
// every context. A context's scheduler takes its thread count from the budget for each decode and gives it back
// after, waiting its turn in arrival order when the budget is spent. Two busy contexts with as many threads as
// cores then take turns step by step (together no slower than one after the other) instead of running twice the
// threads on the same cores, where ggml's spinning barriers made them 12x slower. Any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace effect_llama {

class compute_budget {
public:
    // The process-wide budget: EFFECT_LLAMA_COMPUTE_THREADS if set (0: no limit), else the physical cores.
    static compute_budget & global();

    explicit compute_budget(int32_t capacity); // capacity <= 0: unlimited

    // Waits until `threads` (clamped to the capacity) are free and every earlier caller was served. Returns false,
    // holding nothing, when `cancel` became true while waiting.
    bool acquire(int32_t threads, const std::atomic<bool> & cancel);
    void release(int32_t threads);
    // Wakes waiters so they re-check their cancel flag (after an abort).
    void poke();
    // Whether an acquire now would likely wait (a hint: the caller may put its idle threads to sleep first).
    bool contended();

    int32_t capacity() const { return cap; }
    int32_t clamp(int32_t threads) const;

    // What the budget has seen: threads in use now, the most ever in use at once, acquires that had to wait.
    struct stats_t {
        int32_t in_use, peak;
        uint64_t turns, waits;
    };
    stats_t stats();

private:
    const int32_t cap;
    std::mutex mutex;
    std::condition_variable changed;
    int32_t in_use = 0;
    int32_t peak = 0;
    uint64_t turns = 0;
    uint64_t waits = 0;
    uint64_t next_ticket = 0; // FIFO: a ticket is served when it is the oldest waiting one
    uint64_t serving = 0;
    std::vector<uint64_t> cancelled; // tickets whose waiters gave up before their turn

    void advance_locked();
};

// Holds a share of a budget for one decode; releases it when it goes out of scope.
class compute_turn {
public:
    compute_turn(compute_budget & budget, int32_t threads, const std::atomic<bool> & cancel)
        : budget(budget), threads(budget.clamp(threads)), held(budget.acquire(threads, cancel)) {}
    ~compute_turn() {
        if (held) budget.release(threads);
    }
    compute_turn(const compute_turn &) = delete;
    compute_turn & operator=(const compute_turn &) = delete;

    // False when the wait was cancelled: skip the decode.
    bool granted() const { return held; }

private:
    compute_budget & budget;
    const int32_t threads;
    const bool held;
};

} // namespace effect_llama
