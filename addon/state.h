// Saved KV states of a sequence (scheduler::save_state / load_state in state.cpp). A state carries the model's
// fingerprint, the KV cache type, the sequence's tokens, caller metadata and llama.cpp's own sequence state, all
// under a checksum: a damaged state, or one from another model or other settings, is a coded error, never a crash.
#pragma once

#include "llama.h"

#include <cstdint>
#include <string>

namespace effect_llama {

// Hashes the model file's size and samples of its bytes (header, middle, end) with its shape. Worker thread.
uint64_t model_fingerprint(const std::string & path, const llama_model * model);

} // namespace effect_llama
