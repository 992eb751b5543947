// The bridge from llama.cpp/ggml logs to a JS callback. llama.cpp logs from any thread; the callback runs on the
// JS thread through an unref'd ThreadSafeFunction (logging never keeps the process alive). Silent by default.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

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

// While alive, every message logged on the constructing thread (any level, forwarded or not) is also appended to
// sink. Used to read what llama.cpp reports only in its logs, such as the buffer types a model's weights went to.
class log_capture {
public:
    explicit log_capture(std::vector<std::string> & sink);
    ~log_capture();
    log_capture(const log_capture &) = delete;
    log_capture & operator=(const log_capture &) = delete;

private:
    std::vector<std::string> * previous;
};

} // namespace effect_llama
