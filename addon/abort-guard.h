// ggml reports broken invariants with GGML_ABORT/GGML_ASSERT, which end the process. While an abort_guard is alive
// on a thread, such an abort on that thread throws native_error(INTERNAL) instead, so a sampler or grammar
// invariant that input managed to break fails one job, not the user's process. Elsewhere the abort stands.
#pragma once

namespace effect_llama {

// Installs the ggml abort callback. Once per process, before any work.
void abort_guard_install();

class abort_guard {
public:
    abort_guard();
    ~abort_guard();
    abort_guard(const abort_guard &) = delete;
    abort_guard & operator=(const abort_guard &) = delete;
};

} // namespace effect_llama
