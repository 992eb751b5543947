// LoRA adapters: loaded for a model (Model.loadLora), applied per context or per request with a scale. A context
// decodes with one adapter set at a time: the scheduler sets it before each decode, and sequences that asked for
// another set take the next turn. An adapter stays loaded while a context or a queued request still uses it.
// Thread rules: read_lora_set runs on the JS thread; apply_lora on the scheduler thread.
#pragma once

#include "llama.h"

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

namespace effect_llama {

struct model_state;
class Model;

struct lora_adapter {
    std::shared_ptr<model_state> model; // llama.cpp frees an adapter with its model: the model outlives it
    llama_adapter_lora * adapter = nullptr;
    uint32_t id = 0;
    std::string path;
    float alpha = 0;

    lora_adapter() = default;
    lora_adapter(const lora_adapter &) = delete;
    lora_adapter & operator=(const lora_adapter &) = delete;
    ~lora_adapter();
};

struct lora_entry {
    std::shared_ptr<lora_adapter> adapter;
    float scale = 1.0f;
};
using lora_set = std::vector<lora_entry>;

// Same adapters with the same scales, in the same order.
bool same_lora(const lora_set & a, const lora_set & b);

// [{ adapter: id, scale }] against the adapters loaded for `model`; an unknown id is INVALID_ARGUMENT.
lora_set read_lora_set(Napi::Env env, const Napi::Value & value, const Model & model, const char * what);

// Sets the context's adapters (an empty set removes them all).
void apply_lora(llama_context * ctx, const lora_set & set);

} // namespace effect_llama
