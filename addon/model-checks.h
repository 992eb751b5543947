// Checks on a loaded model for values llama.cpp accepts at load time but fails on later, inside a compute graph,
// where an abort or a crash may run on a ggml worker thread that no abort_guard covers: norm epsilons that are
// negative or NaN (GGML_ASSERT(eps >= 0)), tensor types without a CPU dot product (a null call). Worker thread.
#pragma once

#include "llama.h"

#include <string>

namespace effect_llama {

// Throws native_error(INVALID_MODEL_FILE) naming the file and its first bad value.
void check_loaded_model(const llama_model * model, const std::string & path);

} // namespace effect_llama
