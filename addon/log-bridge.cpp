#include "log-bridge.h"

#include "errors.h"
#include "llama.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace effect_llama {

namespace {

struct log_event {
    int level;
    std::string text;
};

struct js_logger {
    napi_env env = nullptr;
    Napi::ThreadSafeFunction tsfn;
};

std::mutex logger_mutex;
std::unique_ptr<js_logger> logger; // guarded by logger_mutex
std::atomic<int> min_level{GGML_LOG_LEVEL_NONE + 100}; // above every level: nothing is forwarded
thread_local std::string last_error;
thread_local int last_level = GGML_LOG_LEVEL_INFO;
thread_local std::vector<std::string> * capture = nullptr; // set by log_capture while a load runs on this thread

void call_js(Napi::Env env, Napi::Function callback, log_event * raw) {
    std::unique_ptr<log_event> event(raw);
    if (env == nullptr || callback.IsEmpty()) {
        return;
    }
    callback.Call({Napi::Number::New(env, event->level), Napi::String::New(env, event->text)});
}

void on_log(enum ggml_log_level level, const char * text, void *) {
    // CONT continues the previous message at its level.
    int effective = level == GGML_LOG_LEVEL_CONT ? last_level : static_cast<int>(level);
    last_level = effective;
    if (effective == GGML_LOG_LEVEL_ERROR && text != nullptr) {
        last_error = level == GGML_LOG_LEVEL_CONT ? last_error + text : std::string(text);
    }
    if (capture != nullptr && text != nullptr) {
        capture->emplace_back(text);
    }
    if (effective < min_level.load(std::memory_order_relaxed) || text == nullptr) {
        return;
    }
    std::lock_guard<std::mutex> lock(logger_mutex);
    if (!logger) {
        return;
    }
    auto event = std::make_unique<log_event>(log_event{effective, text});
    if (logger->tsfn.NonBlockingCall(event.get(), call_js) == napi_ok) {
        event.release();
    }
}

void release_locked() {
    if (logger) {
        logger->tsfn.Release();
        logger.reset();
    }
}

} // namespace

void log_install() {
    llama_log_set(on_log, nullptr);
}

Napi::Value SetLogger(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(logger_mutex);
    release_locked();
    min_level.store(GGML_LOG_LEVEL_NONE + 100);
    if (info.Length() == 0 || info[0].IsNull() || info[0].IsUndefined()) {
        return env.Undefined();
    }
    if (!info[0].IsFunction()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "setLogger: callback must be a function or null");
    }
    int level = GGML_LOG_LEVEL_INFO;
    if (info.Length() > 1 && info[1].IsNumber()) {
        level = info[1].As<Napi::Number>().Int32Value();
    }
    auto next = std::make_unique<js_logger>();
    next->env = env;
    next->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "effect-llama-log", 0, 1);
    next->tsfn.Unref(env);
    logger = std::move(next);
    min_level.store(level);
    return env.Undefined();
}

void log_release(napi_env env) {
    std::lock_guard<std::mutex> lock(logger_mutex);
    if (logger && logger->env == env) {
        min_level.store(GGML_LOG_LEVEL_NONE + 100);
        release_locked();
    }
}

std::string log_last_error() {
    return last_error;
}

void log_clear_last_error() {
    last_error.clear();
}

log_capture::log_capture(std::vector<std::string> & sink) : previous(capture) {
    capture = &sink;
}

log_capture::~log_capture() {
    capture = previous;
}

} // namespace effect_llama
