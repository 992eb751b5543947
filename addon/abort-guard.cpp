#include "abort-guard.h"

#include "errors.h"
#include "ggml.h"
#include "llama.h"

#include <cstdio>

namespace effect_llama {

namespace {

thread_local int guard_depth = 0;
thread_local uint64_t aborts = 0;
thread_local std::string last_message;

// "/long/path/llama-vocab.cpp:1234: msg" -> "llama-vocab.cpp:1234: msg"
std::string without_directory(const char * message) {
    std::string m(message);
    size_t colon = m.find(':');
    size_t slash = colon == std::string::npos ? std::string::npos : m.rfind('/', colon);
    return slash == std::string::npos ? m : m.substr(slash + 1);
}

// Unwinding out of ggml_abort (C, built with unwind tables) back into our C++ frames is what makes this work.
void on_ggml_abort(const char * message) {
    if (guard_depth > 0) {
        aborts++;
        last_message = without_directory(message);
        throw native_error(code::INTERNAL, "llama.cpp invariant failed: " + last_message);
    }
    // Unguarded (a compute thread of ggml, or a path we do not cover): the process ends next. Say why, once,
    // on stderr, since no logger will run again.
    std::fprintf(stderr, "effect-llama: llama.cpp aborted the process: %s\n", message);
    std::fflush(stderr);
}

} // namespace

void abort_guard_install() {
    ggml_set_abort_callback(on_ggml_abort);
}

abort_guard::abort_guard() : aborts_at_start(aborts) {
    guard_depth++;
}

abort_guard::~abort_guard() {
    guard_depth--;
}

bool abort_guard::tripped() const {
    return aborts != aborts_at_start;
}

std::string abort_guard::message() {
    return last_message;
}

} // namespace effect_llama
