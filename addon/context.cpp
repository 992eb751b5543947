#include "context.h"

#include "abort-guard.h"
#include "common.h"
#include "convert.h"
#include "errors.h"
#include "promise-worker.h"
#include "type-tags.h"
#include "vision.h"

namespace effect_llama {

namespace {

llama_flash_attn_type read_flash_attn(Napi::Env env, const Napi::Object & o) {
    std::string v = opt_string(o, "flashAttention").value_or("auto");
    if (v == "auto") return LLAMA_FLASH_ATTN_TYPE_AUTO;
    if (v == "on") return LLAMA_FLASH_ATTN_TYPE_ENABLED;
    if (v == "off") return LLAMA_FLASH_ATTN_TYPE_DISABLED;
    throw coded_type_error(env, code::INVALID_ARGUMENT, "flashAttention must be auto, on or off");
}

enum llama_pooling_type read_pooling(Napi::Env env, const Napi::Object & o) {
    std::string v = opt_string(o, "pooling").value_or("default");
    if (v == "default") return LLAMA_POOLING_TYPE_UNSPECIFIED;
    if (v == "none") return LLAMA_POOLING_TYPE_NONE;
    if (v == "mean") return LLAMA_POOLING_TYPE_MEAN;
    if (v == "cls") return LLAMA_POOLING_TYPE_CLS;
    if (v == "last") return LLAMA_POOLING_TYPE_LAST;
    if (v == "rank") return LLAMA_POOLING_TYPE_RANK;
    throw coded_type_error(env, code::INVALID_ARGUMENT, "pooling must be default, none, mean, cls, last or rank");
}

ggml_type read_kv_type(Napi::Env env, const Napi::Object & o) {
    std::string v = opt_string(o, "kvCacheType").value_or("f16");
    for (ggml_type t : {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
                        GGML_TYPE_IQ4_NL, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1}) {
        if (v == ggml_type_name(t)) {
            return t;
        }
    }
    throw coded_type_error(env, code::INVALID_ARGUMENT, "kvCacheType must be one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1");
}

speculative_options read_speculative(Napi::Env env, const Napi::Value & value) {
    speculative_options spec;
    if (is_missing(value)) {
        return spec;
    }
    if (!value.IsObject()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "speculative must be { type: draft | ngram, ... }");
    }
    Napi::Object o = value.As<Napi::Object>();
    std::string type = opt_string(o, "type").value_or("");
    spec.n_max = static_cast<int32_t>(get_int(o, "draftTokens", 8, 1, 64));
    if (type == "draft") {
        Napi::Value draft = o.Get("model");
        if (!Model::IsInstance(draft)) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "speculative.model must be a loaded Model (the draft)");
        }
        spec.draft_model = Model::Unwrap(draft.As<Napi::Object>())->loaded_state(env, "speculative");
        spec.kind = speculative_options::DRAFT_MODEL;
    } else if (type == "ngram") {
        spec.ngram_min = static_cast<int32_t>(get_int(o, "ngramMin", 1, 1, 16));
        spec.ngram_max = static_cast<int32_t>(get_int(o, "ngramMax", std::max(4, spec.ngram_min), spec.ngram_min, 16));
        spec.kind = speculative_options::NGRAM;
    } else {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "speculative.type must be draft or ngram");
    }
    return spec;
}

// The model's own pooling when it declares one (embedding models), else mean: a plain LM pools nothing.
bool model_declares_pooling(const llama_model * m) {
    char arch[64] = {0};
    if (llama_model_meta_val_str(m, "general.architecture", arch, sizeof(arch)) < 0) {
        return false;
    }
    char buf[32];
    return llama_model_meta_val_str(m, (std::string(arch) + ".pooling_type").c_str(), buf, sizeof(buf)) >= 0;
}

Napi::Value event_to_js(Napi::Env env, const job_event & ev) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("job", ev.job);
    switch (ev.kind) {
        case job_event::TOKEN:
            o.Set("type", "token");
            o.Set("token", ev.token);
            o.Set("text", ev.text);
            break;
        case job_event::DONE: {
            o.Set("type", "done");
            if (ev.speculative) {
                Napi::Object spec = Napi::Object::New(env);
                spec.Set("drafted", ev.drafted);
                spec.Set("accepted", ev.accepted);
                spec.Set("acceptanceRate", ev.drafted > 0 ? static_cast<double>(ev.accepted) / ev.drafted : 0.0);
                o.Set("speculative", spec);
            }
            o.Set("reason", ev.reason);
            o.Set("text", ev.text);
            if (!ev.stop.empty()) {
                o.Set("stop", ev.stop);
            }
            Napi::Object usage = Napi::Object::New(env);
            usage.Set("promptTokens", ev.prompt_tokens);
            usage.Set("cachedTokens", ev.cached_tokens);
            usage.Set("completionTokens", ev.completion_tokens);
            usage.Set("imageTokens", ev.image_tokens);
            o.Set("usage", usage);
            Napi::Object timings = Napi::Object::New(env);
            timings.Set("prefillMs", ev.prefill_ms);
            timings.Set("generateMs", ev.generate_ms);
            o.Set("timings", timings);
            break;
        }
        case job_event::ERROR:
            o.Set("type", "error");
            o.Set("code", ev.code);
            o.Set("message", ev.message);
            break;
        case job_event::EMBEDDINGS: {
            o.Set("type", "embeddings");
            Napi::Array vectors = Napi::Array::New(env, ev.vectors.size());
            for (size_t i = 0; i < ev.vectors.size(); i++) {
                if (ev.vectors[i].empty()) {
                    vectors.Set(static_cast<uint32_t>(i), env.Null()); // this text failed: see failures
                    continue;
                }
                Napi::Float32Array v = Napi::Float32Array::New(env, ev.vectors[i].size());
                std::copy(ev.vectors[i].begin(), ev.vectors[i].end(), v.Data());
                vectors.Set(static_cast<uint32_t>(i), v);
            }
            o.Set("vectors", vectors);
            Napi::Array failures = Napi::Array::New(env, ev.failures.size());
            for (size_t i = 0; i < ev.failures.size(); i++) {
                Napi::Object f = Napi::Object::New(env);
                f.Set("index", static_cast<double>(ev.failures[i].index));
                f.Set("code", ev.failures[i].code);
                f.Set("message", ev.failures[i].message);
                failures.Set(static_cast<uint32_t>(i), f);
            }
            o.Set("failures", failures);
            break;
        }
    }
    return o;
}

} // namespace

void Context::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Context", {
        InstanceMethod("init", &Context::Initialize),
        InstanceMethod("generate", &Context::Generate),
        InstanceMethod("embed", &Context::Embed),
        InstanceMethod("abort", &Context::Abort),
        InstanceMethod("ack", &Context::Ack),
        InstanceMethod("info", &Context::Info),
        InstanceMethod("saveState", &Context::SaveState),
        InstanceMethod("loadState", &Context::LoadState),
        InstanceMethod("setLora", &Context::SetLora),
        InstanceMethod("rank", &Context::Rank),
        InstanceMethod("dispose", &Context::Dispose),
        InstanceAccessor("disposed", &Context::IsDisposed, nullptr),
    });
    exports.Set("Context", ctor);
}

Context::Context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    info.This().As<Napi::Object>().TypeTag(&CONTEXT_TAG);
    if (info.Length() < 1 || !Model::IsInstance(info[0])) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "Context: the first argument must be a Model");
    }
    model_wrapper = Model::Unwrap(info[0].As<Napi::Object>());
    model = model_wrapper->loaded_state(env, "createContext");
    model_ref = Napi::Persistent(info[0].As<Napi::Object>());
    if (model->options.vocab_only) {
        throw coded_error(env, code::VOCAB_ONLY, "Context: the model was loaded vocab-only; it has no weights to run");
    }
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    const int32_t n_ctx_train = llama_model_n_ctx_train(model->model.get());
    options.n_ctx = static_cast<uint32_t>(get_int(o, "contextSize", std::min<int32_t>(4096, n_ctx_train), 1, 1 << 24));
    options.n_batch = static_cast<uint32_t>(get_int(o, "batchSize", 512, 1, 1 << 20));
    options.n_ubatch = static_cast<uint32_t>(get_int(o, "ubatchSize", std::min<uint32_t>(512, options.n_batch), 1, options.n_batch));
    options.n_seq = static_cast<uint32_t>(get_int(o, "sequences", 1, 1, static_cast<int64_t>(llama_max_parallel_sequences())));
    if (options.n_batch < options.n_seq) {
        // llama.cpp reserves one output per sequence in a batch (it would assert); a step holds a token of each.
        throw coded_type_error(env, code::INVALID_ARGUMENT, "Context: batchSize (" + std::to_string(options.n_batch) +
                                                                 ") must be at least sequences (" +
                                                                 std::to_string(options.n_seq) + ")");
    }
    options.n_threads = static_cast<int32_t>(get_int(o, "threads", 0, 0, 1024));
    options.n_threads_batch = static_cast<int32_t>(get_int(o, "threadsBatch", 0, 0, 1024));
    options.flash_attn = read_flash_attn(env, o);
    options.embeddings = get_bool(o, "embeddings", false);
    options.pooling = read_pooling(env, o);
    options.kv_type = read_kv_type(env, o);
    options.kv_unified = get_bool(o, "kvUnified", false);
    options.warmup = get_bool(o, "warmup", false);
    options.lora = read_lora_set(env, o.Get("lora"), *model_wrapper, "lora");
    options.speculative = read_speculative(env, o.Get("speculative"));
    if (options.embeddings && options.speculative.kind != speculative_options::NONE) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "speculative decoding needs a generating context, not an embedding one");
    }
    if (options.n_ctx < options.n_seq) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "contextSize must be at least the number of sequences");
    }
}

Context::~Context() {
    // Finalizer path (dispose() was never awaited): stop the thread here, on the JS thread.
    if (sched) {
        sched->stop();
        sched->join();
        sched.reset();
    }
    if (sink && !sink->released) {
        sink->released = true;
        sink->tsfn.Release();
    }
}

Napi::Value Context::Initialize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (disposed) {
        throw coded_error(env, code::DISPOSED, "Context.init: the context is disposed");
    }
    if (initializing || sched) {
        throw coded_error(env, code::INVALID_ARGUMENT, "Context.init: already initialized");
    }
    Napi::Function on_events = require_function(info, 0, "Context.init: onEvents");
    sink = std::make_shared<event_sink>();
    sink->tsfn = Napi::ThreadSafeFunction::New(env, on_events, "effect-llama-events", 0, 1);
    // At environment teardown Node finalizes the TSFN itself; Release() from our finalizer then would deadlock.
    env.AddCleanupHook([weak = std::weak_ptr<event_sink>(sink)] {
        if (auto s = weak.lock()) {
            s->released = true;
        }
    });
    sink->tsfn.Unref(env);
    initializing = true;

    llama_context_params params = llama_context_default_params();
    params.n_ctx = options.n_ctx;
    params.n_batch = options.n_batch;
    params.n_ubatch = options.n_ubatch;
    params.n_seq_max = options.n_seq;
    params.n_threads = options.n_threads > 0 ? options.n_threads : common_cpu_get_num_math();
    params.n_threads_batch = options.n_threads_batch > 0 ? options.n_threads_batch : params.n_threads;
    params.flash_attn_type = options.flash_attn;
    params.embeddings = options.embeddings;
    params.pooling_type = options.pooling;
    if (options.embeddings && options.pooling == LLAMA_POOLING_TYPE_UNSPECIFIED && !model_declares_pooling(model->model.get())) {
        params.pooling_type = LLAMA_POOLING_TYPE_MEAN;
    }
    params.type_k = options.kv_type;
    params.type_v = options.kv_type;
    // Embeddings need each sequence in one ubatch, which only the unified KV cache guarantees.
    params.kv_unified = options.kv_unified || options.embeddings;
    params.no_perf = true;

    auto created = std::make_shared<std::shared_ptr<scheduler>>();
    std::shared_ptr<model_state> m = model;
    std::shared_ptr<event_sink> s = sink;
    const context_options opts = options;
    return PromiseWorker::Queue(env, "effect-llama:context-init", {info.This().As<Napi::Object>()},
        [m, s, params, created, opts] {
            abort_guard guard; // llama.cpp catches a guarded abort in the constructor and returns null
            llama_context * raw = llama_init_from_model(m->model.get(), params);
            if (raw == nullptr) {
                throw native_error(code::CONTEXT_CREATE_FAILED, guard.tripped()
                    ? "llama.cpp could not create the context: " + abort_guard::message()
                    : std::string("llama.cpp could not create the context (out of memory?)"));
            }
            llama_context_ptr owned(raw);
            std::unique_ptr<speculator> spec = speculator::create(opts.speculative, raw);
            auto emit = [s](std::unique_ptr<event_batch> batch) {
                event_batch * data = batch.release();
                auto deliver = [s](Napi::Env env, Napi::Function callback, event_batch * raw_batch) {
                    std::unique_ptr<event_batch> events(raw_batch);
                    if (env == nullptr) {
                        return;
                    }
                    Napi::Array array = Napi::Array::New(env, events->size());
                    for (size_t i = 0; i < events->size(); i++) {
                        const job_event & ev = (*events)[i];
                        array.Set(static_cast<uint32_t>(i), event_to_js(env, ev));
                        if ((ev.kind == job_event::DONE || ev.kind == job_event::ERROR) && --s->active_jobs == 0 && !s->released) {
                            s->tsfn.Unref(env); // no job left: an idle context does not keep the process alive
                        }
                    }
                    callback.Call({array});
                };
                if (s->tsfn.NonBlockingCall(data, deliver) != napi_ok) {
                    delete data;
                }
            };
            *created = std::make_shared<scheduler>(m, std::move(owned), emit, std::move(spec), opts.lora);
            (*created)->kv_type = opts.kv_type;
            if (opts.warmup) {
                std::shared_ptr<scheduler> sched_ptr = *created;
                sched_ptr->call([sched_ptr] { sched_ptr->warmup(); }).get();
            }
        },
        [this, created](Napi::Env env) {
            initializing = false;
            if (disposed) {
                (*created)->stop(); // disposed while initializing; the scheduler joins in its destructor
            } else {
                sched = *created;
            }
            return env.Undefined();
        });
}

std::shared_ptr<scheduler> Context::running_scheduler(Napi::Env env, const char * method) {
    if (disposed) {
        throw coded_error(env, code::DISPOSED, std::string("Context.") + method + ": the context is disposed");
    }
    if (!sched) {
        throw coded_error(env, code::INVALID_ARGUMENT, std::string("Context.") + method + ": call init() first");
    }
    return sched;
}

void Context::job_started(Napi::Env env) {
    if (sink->active_jobs++ == 0) {
        sink->tsfn.Ref(env);
    }
}

Napi::Value Context::Generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "generate");
    if (options.embeddings) {
        throw coded_error(env, code::INVALID_ARGUMENT, "Context.generate: this context was created for embeddings");
    }
    Napi::Object o = require_object(info, 0, "generate: request");
    generate_request r;
    r.sequence = static_cast<int32_t>(get_int(o, "sequence", 0, 0, static_cast<int64_t>(options.n_seq) - 1));
    std::optional<std::string> text = opt_string(o, "text");
    Napi::Value tokens = o.Get("tokens");
    Napi::Value parts = o.Get("parts");
    if (static_cast<int>(text.has_value()) + static_cast<int>(!is_missing(tokens)) + static_cast<int>(!is_missing(parts)) != 1) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: give exactly one of text, tokens and parts");
    }
    if (!is_missing(parts)) {
        r.media = read_media_prompt(env, parts, get_bool(o, "addSpecial", true));
    } else if (text) {
        r.text = *text;
        if (r.text.empty()) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: the prompt is empty");
        }
    } else {
        r.tokens = read_tokens(env, tokens, "generate: tokens");
    }
    r.add_special = get_bool(o, "addSpecial", true);
    r.parse_special = get_bool(o, "parseSpecial", true);
    r.sampling = read_sampling(env, o.Get("sampling"), llama_vocab_n_tokens(model->vocab()));
    r.max_tokens = static_cast<int32_t>(get_int(o, "maxTokens", -1, 1, INT32_MAX)); // absent: no limit
    r.stops = get_strings(o, "stop");
    r.ignore_eog = get_bool(o, "ignoreEog", false);
    r.window = static_cast<int32_t>(get_int(o, "window", 0, 0, INT32_MAX));
    if (!is_missing(o.Get("lora"))) {
        r.lora = read_lora_set(env, o.Get("lora"), *model_wrapper, "generate: lora");
    }
    r.speculative = get_bool(o, "speculative", true);
    if (r.media && !model->vision) {
        throw coded_error(env, code::NO_PROJECTOR, "generate: the model was loaded without a projector: it cannot read images");
    }
    job_started(env);
    return Napi::Number::New(env, s->submit(std::move(r)));
}

Napi::Value Context::Embed(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "embed");
    if (!options.embeddings) {
        throw coded_error(env, code::NOT_EMBEDDING_CONTEXT, "Context.embed: create the context with embeddings: true");
    }
    Napi::Object o = require_object(info, 0, "embed: request");
    embed_request r;
    r.texts = get_strings(o, "texts");
    r.normalize = get_bool(o, "normalize", true);
    r.add_special = get_bool(o, "addSpecial", true);
    r.parse_special = get_bool(o, "parseSpecial", false);
    job_started(env);
    return Napi::Number::New(env, s->submit(std::move(r)));
}

Napi::Value Context::Abort(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    int64_t id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : -1;
    if (disposed || !sched || id <= 0) {
        return Napi::Boolean::New(env, false); // nothing to abort: finished, unknown, or the context is gone
    }
    return Napi::Boolean::New(env, sched->abort(static_cast<uint32_t>(id)));
}

Napi::Value Context::Ack(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "ack(job, events): two numbers");
    }
    int64_t id = info[0].As<Napi::Number>().Int64Value();
    int64_t events = info[1].As<Napi::Number>().Int64Value();
    if (!disposed && sched && id > 0 && events > 0) {
        sched->ack(static_cast<uint32_t>(id), static_cast<int32_t>(std::min<int64_t>(events, INT32_MAX)));
    }
    return env.Undefined();
}

Napi::Value Context::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "info");
    llama_context * c = s->context();
    Napi::Object o = Napi::Object::New(env);
    o.Set("contextSize", llama_n_ctx(c));
    o.Set("sequenceContextSize", llama_n_ctx_seq(c));
    o.Set("batchSize", llama_n_batch(c));
    o.Set("ubatchSize", llama_n_ubatch(c));
    o.Set("sequences", llama_n_seq_max(c));
    o.Set("threads", llama_n_threads(c));
    o.Set("threadsBatch", llama_n_threads_batch(c));
    o.Set("embeddings", options.embeddings);
    o.Set("kvUnified", options.kv_unified || options.embeddings);
    o.Set("kvCacheType", ggml_type_name(options.kv_type));
    static const char * pooling_names[] = {"none", "mean", "cls", "last", "rank"};
    enum llama_pooling_type pooling = llama_pooling_type(c);
    o.Set("pooling", pooling >= 0 && pooling <= LLAMA_POOLING_TYPE_RANK ? pooling_names[pooling] : "none");
    if (s->warmed.done) {
        Napi::Object w = Napi::Object::New(env);
        w.Set("tokens", s->warmed.tokens);
        w.Set("ms", s->warmed.ms);
        o.Set("warmup", w);
    } else {
        o.Set("warmup", env.Null());
    }
    static const char * spec_names[] = {"none", "draft", "ngram"};
    o.Set("speculative", spec_names[options.speculative.kind]);
    return o;
}

Napi::Value Context::SetLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "setLora");
    if (info.Length() < 1) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "setLora: adapters are required (an empty array removes them)");
    }
    options.lora = read_lora_set(env, info[0], *model_wrapper, "setLora");
    s->set_lora(options.lora);
    return env.Undefined();
}

Napi::Value Context::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    disposed = true;
    // One owner for what is freed: the worker thread drops the scheduler (joining its thread, freeing the
    // llama_context) and the model reference, so neither waits for the JS object to be collected.
    struct released {
        std::shared_ptr<scheduler> sched;
        std::shared_ptr<model_state> model;
    };
    auto r = std::make_shared<released>(released{std::move(sched), std::move(model)});
    options.lora.clear();
    options.speculative.draft_model.reset();
    if (!model_ref.IsEmpty()) {
        model_ref.Reset();
    }
    std::shared_ptr<event_sink> k = sink;
    // Stopping aborts every job (they report "abort"), then the thread exits.
    return PromiseWorker::Queue(env, "effect-llama:context-dispose", {info.This().As<Napi::Object>()},
        [r] {
            if (r->sched) {
                r->sched->stop();
                r->sched->join();
            }
            r->sched.reset();
            r->model.reset();
        },
        [k](Napi::Env env) {
            if (k && !k->released) {
                k->released = true;
                k->tsfn.Release();
            }
            return env.Undefined();
        });
}

Napi::Value Context::IsDisposed(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), disposed);
}

} // namespace effect_llama
