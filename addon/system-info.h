// systemInfo(): what this build of the addon holds (llama.cpp pin, backends, devices, CPU features).
// JS thread; cheap, synchronous.
#pragma once

#include <napi.h>

namespace effect_llama {

Napi::Value SystemInfo(const Napi::CallbackInfo & info);

} // namespace effect_llama
