// Coded errors: every error the addon throws or rejects with carries a stable `code` that TypeScript maps to a
// typed reason with a table (src/native). One style only: throw coded_error(...). JS thread only.
#pragma once

#include <napi.h>

#include <string>

namespace effect_llama {

inline Napi::Error coded_error(Napi::Env env, const char * code, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
}

inline Napi::Error coded_type_error(Napi::Env env, const char * code, const std::string & message) {
    Napi::Error err = Napi::TypeError::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
}

} // namespace effect_llama
