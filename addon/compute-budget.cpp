#include "compute-budget.h"

#include "common.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace effect_llama {

namespace {

int32_t configured_capacity() {
    if (const char * value = std::getenv("EFFECT_LLAMA_COMPUTE_THREADS")) {
        char * end = nullptr;
        long n = std::strtol(value, &end, 10);
        if (end != value && *end == '\0' && n >= 0) {
            return static_cast<int32_t>(std::min<long>(n, 1 << 20));
        }
    }
    return std::max<int32_t>(1, common_cpu_get_num_math());
}

} // namespace

compute_budget & compute_budget::global() {
    static compute_budget budget(configured_capacity());
    return budget;
}

compute_budget::compute_budget(int32_t capacity) : cap(capacity) {}

int32_t compute_budget::clamp(int32_t threads) const {
    return cap <= 0 ? std::max<int32_t>(threads, 1) : std::clamp<int32_t>(threads, 1, cap);
}

bool compute_budget::acquire(int32_t threads, const std::atomic<bool> & cancel) {
    if (cap <= 0) {
        return true;
    }
    const int32_t need = clamp(threads);
    std::unique_lock<std::mutex> lock(mutex);
    const uint64_t ticket = next_ticket++;
    auto ready = [&] { return serving == ticket && in_use + need <= cap; };
    if (!ready()) {
        waits++;
    }
    changed.wait(lock, [&] { return cancel.load() || ready(); });
    if (serving != ticket || in_use + need > cap) {
        // Cancelled: give the turn up. Later tickets wait for this one, so skip it when it comes up.
        cancelled.push_back(ticket);
        advance_locked();
        changed.notify_all();
        return false;
    }
    in_use += need;
    peak = std::max(peak, in_use);
    turns++;
    serving++;
    advance_locked();
    changed.notify_all();
    return true;
}

void compute_budget::release(int32_t threads) {
    if (cap <= 0) {
        return;
    }
    std::lock_guard<std::mutex> lock(mutex);
    in_use -= clamp(threads);
    changed.notify_all();
}

compute_budget::stats_t compute_budget::stats() {
    std::lock_guard<std::mutex> lock(mutex);
    return {in_use, peak, turns, waits};
}

bool compute_budget::contended() {
    if (cap <= 0) {
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex);
    return in_use > 0 || serving != next_ticket;
}

void compute_budget::poke() {
    std::lock_guard<std::mutex> lock(mutex);
    changed.notify_all();
}

void compute_budget::advance_locked() {
    // Tickets given up by cancelled waiters are skipped, so the next live one is served.
    for (auto it = std::find(cancelled.begin(), cancelled.end(), serving); it != cancelled.end();
         it = std::find(cancelled.begin(), cancelled.end(), serving)) {
        cancelled.erase(it);
        serving++;
    }
}

} // namespace effect_llama
