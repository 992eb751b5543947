// Type tags let us check that a JS object really wraps one of our classes before Unwrap (NAPI 8).
#pragma once

#include <napi.h>

namespace effect_llama {

inline constexpr napi_type_tag MODEL_TAG = {0x8f3c1a2b4d5e6f70ULL, 0x1a2b3c4d5e6f7081ULL};
inline constexpr napi_type_tag CONTEXT_TAG = {0x2c4e6a8b0d1f3e5aULL, 0x7b9d1f3a5c7e9b0dULL};

} // namespace effect_llama
