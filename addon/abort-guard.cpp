#include "abort-guard.h"

#include "errors.h"
#include "ggml.h"
#include "llama.h"

namespace effect_llama {

namespace {

thread_local int guard_depth = 0;

// Unwinding out of ggml_abort (C, built with unwind tables) back into our C++ frames is what makes this work.
void on_ggml_abort(const char * message) {
    if (guard_depth > 0) {
        throw native_error(code::INTERNAL, std::string("llama.cpp invariant failed: ") + message);
    }
}

} // namespace

void abort_guard_install() {
    ggml_set_abort_callback(on_ggml_abort);
}

abort_guard::abort_guard() {
    guard_depth++;
}

abort_guard::~abort_guard() {
    guard_depth--;
}

} // namespace effect_llama
