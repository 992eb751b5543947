// JS -> C++ readers that check types at the door and throw INVALID_ARGUMENT TypeErrors. JS thread only.
#pragma once

#include "errors.h"

#include <napi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace effect_llama {

inline Napi::Object require_object(const Napi::CallbackInfo & info, size_t i, const char * what) {
    if (info.Length() <= i || !info[i].IsObject()) {
        throw coded_type_error(info.Env(), code::INVALID_ARGUMENT, std::string(what) + " must be an object");
    }
    return info[i].As<Napi::Object>();
}

inline std::string require_string(const Napi::CallbackInfo & info, size_t i, const char * what) {
    if (info.Length() <= i || !info[i].IsString()) {
        throw coded_type_error(info.Env(), code::INVALID_ARGUMENT, std::string(what) + " must be a string");
    }
    return info[i].As<Napi::String>().Utf8Value();
}

inline Napi::Function require_function(const Napi::CallbackInfo & info, size_t i, const char * what) {
    if (info.Length() <= i || !info[i].IsFunction()) {
        throw coded_type_error(info.Env(), code::INVALID_ARGUMENT, std::string(what) + " must be a function");
    }
    return info[i].As<Napi::Function>();
}

inline bool is_missing(const Napi::Value & v) {
    return v.IsUndefined() || v.IsNull();
}

inline std::optional<double> opt_number(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    if (is_missing(v)) {
        return std::nullopt;
    }
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
        throw coded_type_error(o.Env(), code::INVALID_ARGUMENT, std::string(key) + " must be a finite number");
    }
    return v.As<Napi::Number>().DoubleValue();
}

inline double get_number(const Napi::Object & o, const char * key, double fallback) {
    return opt_number(o, key).value_or(fallback);
}

// A number as a person writes it: -5, not -5.000000; 0.25, not 0.250000.
inline std::string format_number(double v) {
    if (std::floor(v) == v && std::fabs(v) < 9.007199254740992e15) {
        return std::to_string(static_cast<long long>(v));
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    std::string shortest(buf);
    for (int precision = 1; precision <= 17; precision++) {
        std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) {
            return buf;
        }
    }
    return shortest;
}

// An integer in [min, max]; fractions and out-of-range values are rejected, never truncated.
inline int64_t get_int(const Napi::Object & o, const char * key, int64_t fallback, int64_t min, int64_t max,
                       const char * err_code = code::INVALID_ARGUMENT) {
    std::optional<double> v = opt_number(o, key);
    if (!v) {
        return fallback;
    }
    if (std::floor(*v) != *v || *v < static_cast<double>(min) || *v > static_cast<double>(max)) {
        throw coded_type_error(o.Env(), err_code,
                               std::string(key) + " must be an integer in [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "], got " + format_number(*v));
    }
    return static_cast<int64_t>(*v);
}

inline bool get_bool(const Napi::Object & o, const char * key, bool fallback) {
    Napi::Value v = o.Get(key);
    if (is_missing(v)) {
        return fallback;
    }
    if (!v.IsBoolean()) {
        throw coded_type_error(o.Env(), code::INVALID_ARGUMENT, std::string(key) + " must be a boolean");
    }
    return v.As<Napi::Boolean>().Value();
}

inline std::optional<std::string> opt_string(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    if (is_missing(v)) {
        return std::nullopt;
    }
    if (!v.IsString()) {
        throw coded_type_error(o.Env(), code::INVALID_ARGUMENT, std::string(key) + " must be a string");
    }
    return v.As<Napi::String>().Utf8Value();
}

inline std::vector<std::string> get_strings(const Napi::Object & o, const char * key) {
    std::vector<std::string> out;
    Napi::Value v = o.Get(key);
    if (is_missing(v)) {
        return out;
    }
    if (!v.IsArray()) {
        throw coded_type_error(o.Env(), code::INVALID_ARGUMENT, std::string(key) + " must be an array of strings");
    }
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value item = a.Get(i);
        if (!item.IsString()) {
            throw coded_type_error(o.Env(), code::INVALID_ARGUMENT, std::string(key) + " must be an array of strings");
        }
        out.push_back(item.As<Napi::String>().Utf8Value());
    }
    return out;
}

// Token ids from an Int32Array/Uint32Array or an array of integers.
inline std::vector<int32_t> read_tokens(Napi::Env env, const Napi::Value & v, const char * what) {
    std::vector<int32_t> out;
    if (v.IsTypedArray()) {
        Napi::TypedArray ta = v.As<Napi::TypedArray>();
        if (ta.TypedArrayType() == napi_int32_array) {
            Napi::Int32Array a = v.As<Napi::Int32Array>();
            out.assign(a.Data(), a.Data() + a.ElementLength());
            return out;
        }
        if (ta.TypedArrayType() == napi_uint32_array) {
            Napi::Uint32Array a = v.As<Napi::Uint32Array>();
            for (size_t i = 0; i < a.ElementLength(); i++) {
                if (a[i] > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
                    throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + " holds an invalid token id");
                }
                out.push_back(static_cast<int32_t>(a[i]));
            }
            return out;
        }
    }
    if (v.IsArray()) {
        Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
            Napi::Value item = a.Get(i);
            double d = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1;
            if (!item.IsNumber() || std::floor(d) != d || d < 0 || d > std::numeric_limits<int32_t>::max()) {
                throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + " holds an invalid token id");
            }
            out.push_back(static_cast<int32_t>(d));
        }
        return out;
    }
    throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + " must be an Int32Array or an array of token ids");
}

inline Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t> & v) {
    Napi::Int32Array a = Napi::Int32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
}

} // namespace effect_llama
