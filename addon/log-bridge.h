// The bridge from llama.cpp/ggml logs to a JS callback. llama.cpp logs from any thread; the callback runs on the
// JS thread through an unref'd ThreadSafeFunction (logging never keeps the process alive). Silent by default.
#pragma once

#include <napi.h>

#include <string>

namespace effect_llama {

// Installs the process-wide llama.cpp log hook. Once per process, before llama_backend_init.
void log_install();

// setLogger(callback | null, minLevel): JS thread.
Napi::Value SetLogger(const Napi::CallbackInfo & info);

// Releases the JS logger of an environment that is shutting down. JS thread.
void log_release(napi_env env);

// The last error-level message logged on the calling thread (e.g. why a model load failed). Any thread.
std::string log_last_error();
void log_clear_last_error();

} // namespace effect_llama
