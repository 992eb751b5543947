// Checks on a loaded model for values llama.cpp accepts at load time but asserts on later, inside a compute graph,
// where the abort may run on a ggml worker thread that no abort_guard covers. Worker thread (model load).
#pragma once

#include "llama.h"

namespace effect_llama {

// Throws native_error(INVALID_MODEL_FILE) naming the first bad value.
void check_loaded_model(const llama_model * model);

} // namespace effect_llama
