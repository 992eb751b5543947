#include "model-checks.h"

#include "errors.h"
#include "gguf.h"

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace effect_llama {

namespace {

std::string meta_value(const llama_model * model, int32_t i) {
    std::vector<char> buf(64);
    int32_t n = llama_model_meta_val_str_by_index(model, i, buf.data(), buf.size());
    if (n >= 0 && static_cast<size_t>(n) >= buf.size()) {
        buf.resize(n + 1);
        n = llama_model_meta_val_str_by_index(model, i, buf.data(), buf.size());
    }
    return n < 0 ? std::string() : std::string(buf.data());
}

// The loader takes any valid ggml type for any tensor; one the CPU backend has no dot product for (the integer
// types) is a null function pointer at the first matrix multiplication: SIGSEGV on a compute thread.
// ggml-base's traits tell the same set (F32, and every type it can convert to float, is the set with a CPU
// vec_dot); the CPU backend's own traits are out of reach in a prebuilt addon, where that backend is a variant
// loaded at run time.
bool computable(ggml_type type) {
    return type == GGML_TYPE_F32 || ggml_get_type_traits(type)->to_float != nullptr;
}

void check_tensor_types(const std::string & path) {
    gguf_init_params params = {/* no_alloc */ true, /* ctx */ nullptr};
    std::unique_ptr<gguf_context, void (*)(gguf_context *)> gguf(gguf_init_from_file(path.c_str(), params), gguf_free);
    if (!gguf) {
        return; // llama.cpp read this file a moment ago; nothing to add
    }
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf.get()); i++) {
        const ggml_type type = gguf_get_tensor_type(gguf.get(), i);
        if (!computable(type)) {
            throw native_error(code::INVALID_MODEL_FILE, "invalid model file " + path + ": tensor " +
                                                             gguf_get_tensor_name(gguf.get(), i) + " has type " +
                                                             ggml_type_name(type) + ", which no backend computes with");
        }
    }
}

// A vocabulary that loads can still fail to tokenize (an SPM byte token renamed: std::out_of_range at the first
// prompt with that byte). Every byte once, at load, makes that an InvalidModelFile instead of a failed generation.
void check_tokenizer(const llama_model * model, const std::string & path) {
    // valid UTF-8 holding every byte valid UTF-8 can hold: U+0001..U+00FF, then one code point per lead byte
    std::string probe = "Hello, world!\n\t 0123 ";
    auto utf8 = [&probe](uint32_t cp) {
        if (cp < 0x80) {
            probe.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            probe.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            probe.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            probe.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            probe.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            probe.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            probe.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            probe.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            probe.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            probe.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    };
    for (uint32_t cp = 1; cp < 0x100; cp++) {
        utf8(cp);
    }
    for (uint32_t cp = 0x100; cp < 0x800; cp += 0x40) {
        utf8(cp);
    }
    for (uint32_t cp = 0x800; cp < 0x10000; cp += 0x1000) {
        utf8(cp == 0xD800 ? 0xD7FF : cp); // no surrogates
    }
    for (uint32_t cp = 0x10000; cp < 0x110000; cp += 0x40000) {
        utf8(cp);
    }
    std::vector<llama_token> tokens(probe.size() * 2 + 16);
    try {
        llama_tokenize(llama_model_get_vocab(model), probe.data(), static_cast<int32_t>(probe.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), true, false);
    } catch (const std::exception & e) {
        throw native_error(code::INVALID_MODEL_FILE,
                           "invalid model file " + path + ": the vocabulary cannot tokenize text (" + e.what() + ")");
    }
}

} // namespace

void check_loaded_model(const llama_model * model, const std::string & path) {
    check_tensor_types(path);
    check_tokenizer(model, path);
    char key[256];
    for (int32_t i = 0; i < llama_model_meta_count(model); i++) {
        if (llama_model_meta_key_by_index(model, i, key, sizeof(key)) < 0) {
            continue;
        }
        std::string k(key);
        // ggml's norm kernels assert eps >= 0 (ops.cpp); NaN fails that too.
        if (k.find("epsilon") == std::string::npos) {
            continue;
        }
        std::string v = meta_value(model, i);
        char * end = nullptr;
        double eps = std::strtod(v.c_str(), &end);
        if (v.empty() || end == v.c_str() || !std::isfinite(eps) || eps < 0) {
            throw native_error(code::INVALID_MODEL_FILE,
                               "invalid model file " + path + ": metadata " + k + " = " + v + " is not a finite number >= 0");
        }
    }
}

} // namespace effect_llama
