#include "model-checks.h"

#include "errors.h"

#include <cmath>
#include <cstdlib>
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

} // namespace

void check_loaded_model(const llama_model * model) {
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
            throw native_error(code::INVALID_MODEL_FILE, "metadata " + k + " = " + v + " is not a finite number >= 0");
        }
    }
}

} // namespace effect_llama
