#include "model.h"

#include "abort-guard.h"
#include "convert.h"
#include "errors.h"
#include "log-bridge.h"
#include "model-checks.h"
#include "lora.h"
#include "promise-worker.h"
#include "state.h"
#include "type-tags.h"
#include "vision.h"


#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <vector>

namespace effect_llama {

namespace {

struct progress_event {
    float progress;
};

struct load_baton {
    std::string path;
    model_options options;
    std::shared_ptr<std::atomic<bool>> abort_flag;
    Napi::ThreadSafeFunction progress; // empty when no callback was given
    bool has_progress = false;
    std::shared_ptr<model_state> result;
};

bool on_load_progress(float progress, void * user_data) {
    auto * baton = static_cast<load_baton *>(user_data);
    if (baton->has_progress) {
        auto * event = new progress_event{progress};
        auto deliver = [](Napi::Env env, Napi::Function callback, progress_event * raw) {
            std::unique_ptr<progress_event> ev(raw);
            if (env != nullptr && !callback.IsEmpty()) {
                callback.Call({Napi::Number::New(env, ev->progress)});
            }
        };
        if (baton->progress.NonBlockingCall(event, deliver) != napi_ok) {
            delete event;
        }
    }
    return !baton->abort_flag->load(std::memory_order_relaxed);
}

// Checks what llama.cpp would only log about: a missing path, a directory, a file that is not GGUF.
void check_model_file(const std::string & path) {
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw native_error(code::MODEL_NOT_FOUND, "model file not found: " + path);
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw native_error(code::MODEL_NOT_A_FILE, "model path is not a regular file: " + path);
    }
    std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    char magic[4] = {0, 0, 0, 0};
    if (!file || std::fread(magic, 1, 4, file.get()) != 4 || std::string(magic, 4) != "GGUF") {
        throw native_error(code::INVALID_MODEL_FILE, "not a GGUF file (bad magic): " + path);
    }
}

// llama.cpp reports where the weights went only in its log: "load_tensors:   CPU_REPACK model buffer size = 1.2 MiB".
std::vector<model_buffer> parse_model_buffers(const std::vector<std::string> & lines) {
    static const std::regex line_re(R"((\S+) model buffer size = +([0-9.]+) MiB)");
    std::vector<model_buffer> buffers;
    std::smatch m;
    for (const std::string & line : lines) {
        if (std::regex_search(line, m, line_re)) {
            buffers.push_back({m[1].str(), std::round(std::strtod(m[2].str().c_str(), nullptr) * 1024.0 * 1024.0)});
        }
    }
    return buffers;
}

// A GGML_ABORT/GGML_ASSERT that file content reaches while loading (vocab, hparams, tensors) throws here; llama.cpp's
// loader catches it, frees what it built and returns null. Either way the file is invalid, with the abort's message.
llama_model * load_guarded(const std::string & path, const llama_model_params & params) {
    abort_guard guard;
    llama_model * model = nullptr;
    try {
        model = llama_model_load_from_file(path.c_str(), params);
    } catch (const native_error &) {
        model = nullptr; // thrown by the guard outside the loader's own handler
    }
    if (guard.tripped()) {
        if (model != nullptr) {
            llama_model_free(model);
        }
        throw native_error(code::INVALID_MODEL_FILE, "invalid model file " + path + ": " + abort_guard::message());
    }
    return model;
}

void load_model(load_baton & baton) {
    check_model_file(baton.path);
    llama_model_params params = llama_model_default_params();
    if (baton.options.use_mlock) {
        params.load_mode = baton.options.use_mmap ? LLAMA_LOAD_MODE_MMAP_MLOCK : LLAMA_LOAD_MODE_MLOCK;
    } else if (!baton.options.use_mmap) {
        params.load_mode = LLAMA_LOAD_MODE_NONE;
    }
    params.vocab_only = baton.options.vocab_only;
    params.check_tensors = baton.options.check_tensors;
    params.use_extra_bufts = baton.options.extra_buffer_types;
    params.progress_callback = on_load_progress;
    params.progress_callback_user_data = &baton;
    gpu_fit_scratch fit_scratch; // holds what the fit points params at until the load is done
    gpu_offload offload = apply_gpu_request(baton.path, params, baton.options.gpu, fit_scratch);
    log_clear_last_error();
    std::vector<std::string> log_lines;
    llama_model * model = nullptr;
    {
        log_capture capture(log_lines);
        model = load_guarded(baton.path, params);
    }
    if (model == nullptr) {
        if (baton.abort_flag->load()) {
            throw native_error(code::MODEL_LOAD_ABORTED, "model load aborted: " + baton.path);
        }
        std::string why = log_last_error();
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        throw native_error(code::MODEL_LOAD_FAILED,
                           "llama.cpp could not load " + baton.path + (why.empty() ? "" : ": " + why));
    }
    auto state = std::make_shared<model_state>();
    state->model.reset(model);
    check_loaded_model(model, baton.path); // frees the model (through state) when it throws
    state->options = baton.options;
    state->path = baton.path;
    state->buffers = parse_model_buffers(log_lines);
    read_offload_log(log_lines, offload);
    if (offload.offloadable == 0 && !baton.options.vocab_only) {
        offload.offloadable = llama_model_n_layer(model) + 1; // no GPU backend: llama.cpp logged no offload line
    }
    state->gpu = std::move(offload);
    state->fingerprint = model_fingerprint(baton.path, model);
    if (!baton.options.projector_path.empty()) {
        state->vision = load_projector(baton.options.projector_path, state->model.get(), state->gpu.offloaded > 0);
    }
    baton.result = std::move(state);
}

std::string meta_string(const llama_model * model, const char * key) {
    std::vector<char> buf(256);
    int32_t n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
    if (n < 0) {
        return "";
    }
    if (static_cast<size_t>(n) >= buf.size()) {
        buf.resize(n + 1);
        llama_model_meta_val_str(model, key, buf.data(), buf.size());
    }
    return std::string(buf.data());
}

const char * vocab_type_name(enum llama_vocab_type type) {
    switch (type) {
        case LLAMA_VOCAB_TYPE_NONE:   return "none";
        case LLAMA_VOCAB_TYPE_SPM:    return "spm";
        case LLAMA_VOCAB_TYPE_BPE:    return "bpe";
        case LLAMA_VOCAB_TYPE_WPM:    return "wpm";
        case LLAMA_VOCAB_TYPE_UGM:    return "ugm";
        case LLAMA_VOCAB_TYPE_RWKV:   return "rwkv";
        case LLAMA_VOCAB_TYPE_PLAMO2: return "plamo2";
        default:                      return "unknown";
    }
}

Napi::Value token_or_null(Napi::Env env, llama_token t) {
    return t == LLAMA_TOKEN_NULL ? env.Null() : Napi::Number::New(env, t);
}

} // namespace

bool extra_buffer_types_allowed() {
    const char * value = std::getenv("EFFECT_LLAMA_EXTRA_BUFFER_TYPES");
    return value == nullptr || (std::strcmp(value, "0") != 0 && std::strcmp(value, "false") != 0 &&
                                std::strcmp(value, "off") != 0);
}

void Model::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Model", {
        InstanceMethod("load", &Model::Load),
        InstanceMethod("abortLoad", &Model::AbortLoad),
        InstanceMethod("info", &Model::Info),
        InstanceMethod("tokenize", &Model::Tokenize),
        InstanceMethod("detokenize", &Model::Detokenize),
        InstanceMethod("applyChat", &Model::ApplyChat),
        InstanceMethod("parseChat", &Model::ParseChat),
        InstanceMethod("loadLora", &Model::LoadLora),
        InstanceMethod("unloadLora", &Model::UnloadLora),
        InstanceMethod("dispose", &Model::Dispose),
        InstanceAccessor("disposed", &Model::IsDisposed, nullptr),
    });
    exports.Set("Model", ctor);
}

bool Model::IsInstance(const Napi::Value & value) {
    return value.IsObject() && value.As<Napi::Object>().CheckTypeTag(&MODEL_TAG);
}

Model::Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
    Napi::Env env = info.Env();
    info.This().As<Napi::Object>().TypeTag(&MODEL_TAG);
    path = require_string(info, 0, "Model: path");
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    options.gpu = read_gpu_request(env, o);
    options.use_mmap = get_bool(o, "useMmap", true);
    options.use_mlock = get_bool(o, "useMlock", false);
    options.vocab_only = get_bool(o, "vocabOnly", false);
    options.check_tensors = get_bool(o, "checkTensors", false);
    options.extra_buffer_types = get_bool(o, "extraBufferTypes", true) && extra_buffer_types_allowed();
    options.projector_path = opt_string(o, "projector").value_or("");
}

std::shared_ptr<model_state> Model::loaded_state(Napi::Env env, const char * method) const {
    if (disposed) {
        throw coded_error(env, code::DISPOSED, std::string("Model.") + method + ": the model is disposed");
    }
    if (!state) {
        throw coded_error(env, code::INVALID_ARGUMENT, std::string("Model.") + method + ": the model is not loaded");
    }
    return state;
}

Napi::Value Model::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (disposed) {
        throw coded_error(env, code::DISPOSED, "Model.load: the model is disposed");
    }
    if (loading || state) {
        throw coded_error(env, code::INVALID_ARGUMENT, "Model.load: the model is already loaded or loading");
    }
    auto baton = std::make_shared<load_baton>();
    baton->path = path;
    baton->options = options;
    baton->abort_flag = abort_flag;
    if (info.Length() > 0 && info[0].IsFunction()) {
        baton->progress = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "effect-llama-load", 0, 1);
        baton->has_progress = true;
    }
    loading = true;
    Napi::Object self = info.This().As<Napi::Object>();
    return PromiseWorker::Queue(env, "effect-llama:model-load", {self},
        [baton] {
            struct release_guard {
                load_baton & b;
                ~release_guard() { if (b.has_progress) b.progress.Release(); }
            } guard{*baton};
            load_model(*baton);
        },
        [this, baton](Napi::Env env) {
            loading = false;
            if (disposed) {
                baton->result.reset(); // dispose() was called while loading: the result is not wanted
            } else {
                state = std::move(baton->result);
            }
            return env.Undefined();
        });
}

Napi::Value Model::AbortLoad(const Napi::CallbackInfo & info) {
    abort_flag->store(true, std::memory_order_relaxed);
    return info.Env().Undefined();
}

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<model_state> s = loaded_state(env, "info");
    const llama_model * m = s->model.get();
    const llama_vocab * v = s->vocab();
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", s->path);
    o.Set("architecture", meta_string(m, "general.architecture"));
    o.Set("name", meta_string(m, "general.name"));
    char desc[256];
    llama_model_desc(m, desc, sizeof(desc));
    o.Set("description", desc);
    o.Set("size", static_cast<double>(llama_model_size(m)));
    o.Set("parameters", static_cast<double>(llama_model_n_params(m)));
    o.Set("trainedContext", llama_model_n_ctx_train(m));
    o.Set("embeddingSize", llama_model_n_embd(m));
    // llama.cpp aborts on n_head() of a model without layers (a vocab-only file), so ask only when there are some.
    const bool has_layers = llama_model_n_layer(m) > 0;
    o.Set("layers", llama_model_n_layer(m));
    o.Set("heads", has_layers ? llama_model_n_head(m) : 0);
    o.Set("headsKv", has_layers ? llama_model_n_head_kv(m) : 0);
    o.Set("vocabSize", llama_vocab_n_tokens(v));
    o.Set("vocabType", vocab_type_name(llama_vocab_type(v)));
    o.Set("vocabOnly", s->options.vocab_only);
    o.Set("hasEncoder", llama_model_has_encoder(m));
    o.Set("hasDecoder", llama_model_has_decoder(m));
    o.Set("rankOutputs", static_cast<double>(llama_model_n_cls_out(m)));
    o.Set("vision", s->vision != nullptr);

    Napi::Object special = Napi::Object::New(env);
    special.Set("bos", token_or_null(env, llama_vocab_bos(v)));
    special.Set("eos", token_or_null(env, llama_vocab_eos(v)));
    special.Set("eot", token_or_null(env, llama_vocab_eot(v)));
    special.Set("sep", token_or_null(env, llama_vocab_sep(v)));
    special.Set("nl", token_or_null(env, llama_vocab_nl(v)));
    special.Set("pad", token_or_null(env, llama_vocab_pad(v)));
    special.Set("addBos", llama_vocab_get_add_bos(v));
    special.Set("addEos", llama_vocab_get_add_eos(v));
    o.Set("specialTokens", special);
    // Control tokens are what parse_special turns text into; message contents must never become them.
    Napi::Array control = Napi::Array::New(env);
    for (llama_token t = 0; t < llama_vocab_n_tokens(v); t++) {
        if ((llama_vocab_get_attr(v, t) & LLAMA_TOKEN_ATTR_CONTROL) != 0) {
            const char * text = llama_vocab_get_text(v, t);
            if (text != nullptr && text[0] != '\0') {
                control.Set(control.Length(), text);
            }
        }
    }
    o.Set("controlTokens", control);

    Napi::Object templates = Napi::Object::New(env);
    if (const char * t = llama_model_chat_template(m, nullptr)) {
        templates.Set("default", t);
    }
    if (const char * t = llama_model_chat_template(m, "tool_use")) {
        templates.Set("tool_use", t);
    }
    o.Set("chatTemplates", templates);

    o.Set("extraBufferTypes", s->options.extra_buffer_types);
    Napi::Array buffers = Napi::Array::New(env);
    for (const model_buffer & b : s->buffers) {
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("type", b.type);
        entry.Set("bytes", b.bytes);
        buffers.Set(buffers.Length(), entry);
    }
    o.Set("buffers", buffers);
    set_gpu_info(env, o, s->options.gpu, s->gpu, s->buffers);

    Napi::Object metadata = Napi::Object::New(env);
    char key[256];
    for (int32_t i = 0; i < llama_model_meta_count(m); i++) {
        if (llama_model_meta_key_by_index(m, i, key, sizeof(key)) < 0) {
            continue;
        }
        std::string k(key);
        if (k.rfind("tokenizer.ggml.", 0) == 0 || k == "tokenizer.chat_template") {
            continue; // vocab arrays and templates are large and reported elsewhere
        }
        std::vector<char> val(512);
        int32_t n = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
        if (n >= 0 && static_cast<size_t>(n) >= val.size()) {
            val.resize(n + 1);
            n = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
        }
        if (n >= 0) {
            metadata.Set(k, std::string(val.data()));
        }
    }
    o.Set("metadata", metadata);
    return o;
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string text = require_string(info, 0, "tokenize: text");
    bool add_special = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    bool parse_special = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    std::shared_ptr<model_state> s = loaded_state(env, "tokenize");
    auto tokens = std::make_shared<std::vector<llama_token>>();
    return PromiseWorker::Queue(env, "effect-llama:tokenize", {info.This().As<Napi::Object>()},
        [s, text = std::move(text), add_special, parse_special, tokens] {
            int32_t n = -llama_tokenize(s->vocab(), text.data(), static_cast<int32_t>(text.size()), nullptr, 0,
                                        add_special, parse_special);
            if (n < 0) {
                throw native_error(code::INVALID_ARGUMENT, "tokenize: the text is too long to tokenize");
            }
            tokens->resize(n);
            int32_t check = llama_tokenize(s->vocab(), text.data(), static_cast<int32_t>(text.size()), tokens->data(),
                                           n, add_special, parse_special);
            if (check != n) {
                throw native_error(code::INTERNAL, "tokenize: token count changed between passes");
            }
        },
        [tokens](Napi::Env env) { return to_int32_array(env, *tokens); });
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "detokenize: tokens are required");
    }
    std::vector<int32_t> tokens = read_tokens(env, info[0], "detokenize: tokens");
    bool remove_special = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    bool unparse_special = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    std::shared_ptr<model_state> s = loaded_state(env, "detokenize");
    int32_t n_vocab = llama_vocab_n_tokens(s->vocab());
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab) {
            throw coded_type_error(env, code::INVALID_ARGUMENT,
                                   "detokenize: token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    auto text = std::make_shared<std::string>();
    return PromiseWorker::Queue(env, "effect-llama:detokenize", {info.This().As<Napi::Object>()},
        [s, tokens = std::move(tokens), remove_special, unparse_special, text] {
            text->resize(std::max<size_t>(tokens.size() * 4, 16));
            int32_t n = llama_detokenize(s->vocab(), tokens.data(), static_cast<int32_t>(tokens.size()), text->data(),
                                         static_cast<int32_t>(text->size()), remove_special, unparse_special);
            if (n < 0) {
                text->resize(-n);
                n = llama_detokenize(s->vocab(), tokens.data(), static_cast<int32_t>(tokens.size()), text->data(),
                                     static_cast<int32_t>(text->size()), remove_special, unparse_special);
            }
            text->resize(std::max(n, 0));
        },
        [text](Napi::Env env) { return Napi::String::New(env, *text); });
}

Napi::Value Model::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    abort_flag->store(true); // a load still running stops at its next progress callback
    disposed = true;
    std::shared_ptr<model_state> released = std::move(state);
    auto loras = std::make_shared<decltype(adapters)>(std::move(adapters)); // freed before the weights they hold
    adapters.clear();
    // Weights are freed off the JS thread; contexts still holding the state keep it alive until they go.
    return PromiseWorker::Queue(env, "effect-llama:model-dispose", {},
                                [released = std::move(released), loras]() mutable { loras->clear(); released.reset(); },
                                nullptr);
}

Napi::Value Model::IsDisposed(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), disposed);
}

} // namespace effect_llama
