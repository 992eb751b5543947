// Coded errors: every error the addon throws or rejects with carries a stable `code` that TypeScript maps to a
// typed reason with a table (src/native/NativeErrors.ts). One style only: throw coded_error(...) on the JS thread,
// throw native_error(...) on worker threads (converted to a coded Napi::Error on the JS thread).
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

namespace effect_llama {

// Stable codes, shared with src/native/NativeErrors.ts.
namespace code {
inline constexpr const char * INVALID_ARGUMENT = "INVALID_ARGUMENT";
inline constexpr const char * MODEL_NOT_FOUND = "MODEL_NOT_FOUND";
inline constexpr const char * MODEL_NOT_A_FILE = "MODEL_NOT_A_FILE";
inline constexpr const char * INVALID_MODEL_FILE = "INVALID_MODEL_FILE";
inline constexpr const char * MODEL_LOAD_FAILED = "MODEL_LOAD_FAILED";
inline constexpr const char * MODEL_LOAD_ABORTED = "MODEL_LOAD_ABORTED";
inline constexpr const char * CONTEXT_CREATE_FAILED = "CONTEXT_CREATE_FAILED";
inline constexpr const char * VOCAB_ONLY = "VOCAB_ONLY";
inline constexpr const char * CONTEXT_OVERFLOW = "CONTEXT_OVERFLOW";
inline constexpr const char * NO_KV_SLOT = "LLAMA_DECODE_NO_KV_SLOT";
inline constexpr const char * INVALID_BATCH = "LLAMA_DECODE_INVALID_BATCH";
inline constexpr const char * COMPUTE_ERROR = "LLAMA_DECODE_COMPUTE_ERROR";
inline constexpr const char * ABORTED = "ABORTED";
inline constexpr const char * INVALID_SAMPLING = "INVALID_SAMPLING";
inline constexpr const char * GRAMMAR_ERROR = "GRAMMAR_ERROR";
inline constexpr const char * SAMPLING_ERROR = "SAMPLING_ERROR";
inline constexpr const char * TEMPLATE_ERROR = "TEMPLATE_ERROR";
inline constexpr const char * PARSE_ERROR = "PARSE_ERROR";
inline constexpr const char * SEQUENCE_BUSY = "SEQUENCE_BUSY";
inline constexpr const char * NOT_EMBEDDING_CONTEXT = "NOT_EMBEDDING_CONTEXT";
inline constexpr const char * DISPOSED = "DISPOSED";
inline constexpr const char * LORA_NOT_FOUND = "LORA_NOT_FOUND";
inline constexpr const char * LORA_LOAD_FAILED = "LORA_LOAD_FAILED";
inline constexpr const char * STATE_INVALID = "STATE_INVALID";
inline constexpr const char * STATE_MISMATCH = "STATE_MISMATCH";
inline constexpr const char * NO_PROJECTOR = "NO_PROJECTOR";
inline constexpr const char * PROJECTOR_LOAD_FAILED = "PROJECTOR_LOAD_FAILED";
inline constexpr const char * INVALID_MEDIA = "INVALID_MEDIA";
inline constexpr const char * NOT_RANK_CONTEXT = "NOT_RANK_CONTEXT";
inline constexpr const char * INTERNAL = "INTERNAL";
} // namespace code

// Thrown on worker threads; carries the code to the JS thread.
struct native_error : std::runtime_error {
    std::string code;
    native_error(const char * code, const std::string & message) : std::runtime_error(message), code(code) {}
};

inline Napi::Error coded_error(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
}

inline Napi::Error coded_type_error(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error err = Napi::TypeError::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
}

} // namespace effect_llama
