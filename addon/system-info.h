// systemInfo(): what this build of the addon holds (llama.cpp pin, backends, devices, CPU features).
// JS thread; cheap, synchronous.
#pragma once

#include <napi.h>

#include <string>

namespace effect_llama {

Napi::Value SystemInfo(const Napi::CallbackInfo & info);

// The file of the loaded addon and its folder (dladdr). Any thread.
std::string addon_path();
std::string addon_directory();

} // namespace effect_llama
