// ggml reports broken invariants with GGML_ABORT/GGML_ASSERT, which end the process. While an abort_guard is alive
// on a thread, such an abort on that thread throws native_error(INTERNAL) instead, so a sampler or grammar
// invariant that input managed to break fails one job, not the user's process. Elsewhere the abort stands.
// llama.cpp may catch the exception itself (the model loader does, and returns an error): tripped() and message()
// still tell the guard's owner that an abort happened, and why.
#pragma once

#include <cstdint>
#include <string>

namespace effect_llama {

// Installs the ggml abort callback. Once per process, before any work.
void abort_guard_install();

class abort_guard {
public:
    abort_guard();
    ~abort_guard();
    abort_guard(const abort_guard &) = delete;
    abort_guard & operator=(const abort_guard &) = delete;

    // Whether an abort was turned into an exception on this thread while this guard was alive.
    bool tripped() const;
    // The last such abort's message ("file.cpp:123: GGML_ASSERT(...) failed"), without the source directory.
    static std::string message();

private:
    uint64_t aborts_at_start;
};

} // namespace effect_llama
