// LoRA adapters (lora.h): Model.loadLora / unloadLora and the adapter sets of contexts and requests.
#include "lora.h"

#include "abort-guard.h"
#include "convert.h"
#include "errors.h"
#include "model.h"
#include "promise-worker.h"

#include <cmath>
#include <filesystem>

namespace effect_llama {

lora_adapter::~lora_adapter() {
    if (adapter != nullptr) {
        llama_adapter_lora_free(adapter);
    }
}

bool same_lora(const lora_set & a, const lora_set & b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); i++) {
        if (a[i].adapter != b[i].adapter || a[i].scale != b[i].scale) {
            return false;
        }
    }
    return true;
}

lora_set read_lora_set(Napi::Env env, const Napi::Value & value, const Model & model, const char * what) {
    lora_set set;
    if (is_missing(value)) {
        return set;
    }
    if (!value.IsArray()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + " must be an array of { adapter, scale }");
    }
    Napi::Array a = value.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value item = a.Get(i);
        if (!item.IsObject()) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + " must be an array of { adapter, scale }");
        }
        Napi::Object o = item.As<Napi::Object>();
        const auto id = static_cast<uint32_t>(get_int(o, "adapter", 0, 1, UINT32_MAX));
        if (id == 0) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + ": each entry needs an adapter id");
        }
        const double scale = get_number(o, "scale", 1.0);
        if (std::fabs(scale) > 1e6) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(what) + ": scale must be in [-1e6, 1e6]");
        }
        std::shared_ptr<lora_adapter> adapter = model.adapter(id);
        if (!adapter) {
            throw coded_error(env, code::LORA_NOT_FOUND,
                              std::string(what) + ": adapter " + std::to_string(id) + " is not loaded for this model");
        }
        for (const lora_entry & e : set) {
            if (e.adapter == adapter) {
                throw coded_type_error(env, code::INVALID_ARGUMENT,
                                       std::string(what) + ": adapter " + std::to_string(id) + " is listed twice");
            }
        }
        set.push_back({adapter, static_cast<float>(scale)});
    }
    return set;
}

void apply_lora(llama_context * ctx, const lora_set & set) {
    std::vector<llama_adapter_lora *> adapters;
    std::vector<float> scales;
    for (const lora_entry & e : set) {
        adapters.push_back(e.adapter->adapter);
        scales.push_back(e.scale);
    }
    llama_set_adapters_lora(ctx, adapters.empty() ? nullptr : adapters.data(), adapters.size(),
                            scales.empty() ? nullptr : scales.data());
}

std::shared_ptr<lora_adapter> Model::adapter(uint32_t id) const {
    auto it = adapters.find(id);
    return it == adapters.end() ? nullptr : it->second;
}

Napi::Value Model::LoadLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string lora_path = require_string(info, 0, "loadLora: path");
    std::shared_ptr<model_state> s = loaded_state(env, "loadLora");
    if (s->options.vocab_only) {
        throw coded_error(env, code::VOCAB_ONLY, "Model.loadLora: the model was loaded vocab-only");
    }
    auto loaded = std::make_shared<lora_adapter>();
    loaded->model = s;
    loaded->path = lora_path;
    return PromiseWorker::Queue(env, "effect-llama:lora-load", {info.This().As<Napi::Object>()},
        [loaded] {
            std::error_code ec;
            if (!std::filesystem::is_regular_file(loaded->path, ec)) {
                throw native_error(code::LORA_LOAD_FAILED, "LoRA adapter file not found: " + loaded->path);
            }
            abort_guard guard; // a damaged file must fail this call, not the process
            loaded->adapter = llama_adapter_lora_init(loaded->model->model.get(), loaded->path.c_str());
            if (loaded->adapter == nullptr) {
                throw native_error(code::LORA_LOAD_FAILED,
                                   "llama.cpp could not load the LoRA adapter " + loaded->path +
                                       " (not a LoRA GGUF, or made for another base model)");
            }
            char buf[64] = {0};
            if (llama_adapter_meta_val_str(loaded->adapter, "adapter.lora.alpha", buf, sizeof(buf)) >= 0) {
                loaded->alpha = std::strtof(buf, nullptr);
            }
        },
        [this, loaded](Napi::Env env) -> Napi::Value {
            if (disposed) {
                throw coded_error(env, code::DISPOSED, "Model.loadLora: the model was disposed while loading");
            }
            loaded->id = next_adapter++;
            adapters[loaded->id] = loaded;
            Napi::Object o = Napi::Object::New(env);
            o.Set("id", loaded->id);
            o.Set("alpha", loaded->alpha);
            return o;
        });
}

Napi::Value Model::UnloadLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "unloadLora(id): id must be a number");
    }
    // Contexts and queued requests that still use it keep it until they are done with it.
    const auto id = info[0].As<Napi::Number>().Int64Value();
    return Napi::Boolean::New(env, id > 0 && id <= UINT32_MAX && adapters.erase(static_cast<uint32_t>(id)) > 0);
}

} // namespace effect_llama
