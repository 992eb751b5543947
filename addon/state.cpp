// KV state save and restore (state.h): scheduler::save_state / load_state run on the scheduler thread (through
// scheduler::call), Context.saveState / loadState queue them from JS and move bytes to and from files.
//
// Layout (little-endian): "ELKVSTAT" u32 version | u64 model fingerprint | u32 kv type | u32 n_tokens | i32 tokens[]
// | u32 metadata length | metadata | u64 payload length | payload (llama_state_seq_get_data) | u64 FNV-1a of all before.
#include "state.h"

#include "abort-guard.h"
#include "context.h"
#include "convert.h"
#include "errors.h"
#include "promise-worker.h"
#include "scheduler-job.h"

#include <cstdio>
#include <cstring>
#include <fstream>

namespace effect_llama {

namespace {

constexpr char STATE_MAGIC[8] = {'E', 'L', 'K', 'V', 'S', 'T', 'A', 'T'};
constexpr uint32_t STATE_VERSION = 1;
constexpr size_t MAX_STATE_BYTES = size_t(1) << 34; // 16 GiB: anything larger is not a state we wrote

uint64_t fnv1a(const uint8_t * data, size_t n, uint64_t h = 1469598103934665603ULL) {
    for (size_t i = 0; i < n; i++) {
        h ^= data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct writer {
    std::vector<uint8_t> out;
    void bytes(const void * p, size_t n) {
        const auto * b = static_cast<const uint8_t *>(p);
        out.insert(out.end(), b, b + n);
    }
    template <typename T> void put(T v) { bytes(&v, sizeof(v)); }
};

struct reader {
    const uint8_t * data;
    size_t size;
    size_t at = 0;
    void bytes(void * p, size_t n) {
        if (n > size - at) {
            throw native_error(code::STATE_INVALID, "the state is truncated");
        }
        std::memcpy(p, data + at, n);
        at += n;
    }
    template <typename T> T get() {
        T v;
        bytes(&v, sizeof(v));
        return v;
    }
};

} // namespace

uint64_t model_fingerprint(const std::string & path, const llama_model * model) {
    uint64_t h = fnv1a(nullptr, 0);
    const uint64_t shape[] = {llama_model_n_params(model), llama_model_size(model),
                              static_cast<uint64_t>(llama_model_n_embd(model)),
                              static_cast<uint64_t>(llama_model_n_layer(model)),
                              static_cast<uint64_t>(llama_vocab_n_tokens(llama_model_get_vocab(model)))};
    h = fnv1a(reinterpret_cast<const uint8_t *>(shape), sizeof(shape), h);
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file) {
        return h;
    }
    const auto size = static_cast<uint64_t>(file.tellg());
    h = fnv1a(reinterpret_cast<const uint8_t *>(&size), sizeof(size), h);
    // Random weights differ between seeds only in tensor data: sample the start, the middle and the end.
    std::vector<char> buf(64 * 1024);
    for (uint64_t at : {uint64_t(0), size / 2, size > buf.size() ? size - buf.size() : 0}) {
        file.seekg(static_cast<std::streamoff>(at));
        file.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h = fnv1a(reinterpret_cast<const uint8_t *>(buf.data()), static_cast<size_t>(file.gcount()), h);
        file.clear();
    }
    return h;
}

std::vector<uint8_t> scheduler::save_state(int32_t seq, const std::string & metadata) {
    if (seq < 0 || static_cast<size_t>(seq) >= slots.size()) {
        throw native_error(code::INVALID_ARGUMENT, "saveState: sequence " + std::to_string(seq) + " does not exist");
    }
    slot & s = slots[seq];
    if (s.active) {
        throw native_error(code::SEQUENCE_BUSY, "saveState: sequence " + std::to_string(seq) + " is generating");
    }
    if (s.opaque) {
        throw native_error(code::INVALID_ARGUMENT, "saveState: the sequence holds image embeddings, which a state does not keep");
    }
    if (s.cached.empty()) {
        throw native_error(code::INVALID_ARGUMENT, "saveState: sequence " + std::to_string(seq) + " holds no tokens");
    }
    abort_guard guard;
    const size_t n = llama_state_seq_get_size(ctx.get(), seq);
    std::vector<uint8_t> payload(n);
    if (n == 0 || llama_state_seq_get_data(ctx.get(), payload.data(), n, seq) != n) {
        throw native_error(code::INTERNAL, "saveState: llama.cpp could not copy the sequence state");
    }
    writer w;
    w.bytes(STATE_MAGIC, sizeof(STATE_MAGIC));
    w.put<uint32_t>(STATE_VERSION);
    w.put<uint64_t>(model->fingerprint);
    w.put<uint32_t>(static_cast<uint32_t>(kv_type));
    w.put<uint32_t>(static_cast<uint32_t>(s.cached.size()));
    w.bytes(s.cached.data(), s.cached.size() * sizeof(llama_token));
    w.put<uint32_t>(static_cast<uint32_t>(metadata.size()));
    w.bytes(metadata.data(), metadata.size());
    w.put<uint64_t>(payload.size());
    w.bytes(payload.data(), payload.size());
    w.put<uint64_t>(fnv1a(w.out.data(), w.out.size()));
    return std::move(w.out);
}

std::pair<std::vector<llama_token>, std::string> scheduler::load_state(int32_t seq, const std::vector<uint8_t> & data) {
    if (seq < 0 || static_cast<size_t>(seq) >= slots.size()) {
        throw native_error(code::INVALID_ARGUMENT, "loadState: sequence " + std::to_string(seq) + " does not exist");
    }
    slot & s = slots[seq];
    if (s.active) {
        throw native_error(code::SEQUENCE_BUSY, "loadState: sequence " + std::to_string(seq) + " is generating");
    }
    if (data.size() < sizeof(STATE_MAGIC) + 8 || std::memcmp(data.data(), STATE_MAGIC, sizeof(STATE_MAGIC)) != 0) {
        throw native_error(code::STATE_INVALID, "loadState: not a saved effect-llama sequence state");
    }
    uint64_t sum;
    std::memcpy(&sum, data.data() + data.size() - 8, 8);
    if (fnv1a(data.data(), data.size() - 8) != sum) {
        throw native_error(code::STATE_INVALID, "loadState: the state is damaged (checksum mismatch)");
    }
    reader r{data.data(), data.size() - 8};
    r.at = sizeof(STATE_MAGIC);
    if (r.get<uint32_t>() != STATE_VERSION) {
        throw native_error(code::STATE_INVALID, "loadState: the state was written by another version of effect-llama");
    }
    if (r.get<uint64_t>() != model->fingerprint) {
        throw native_error(code::STATE_MISMATCH, "loadState: the state was saved from another model");
    }
    const auto saved_kv = r.get<uint32_t>();
    if (saved_kv != static_cast<uint32_t>(kv_type)) {
        throw native_error(code::STATE_MISMATCH, std::string("loadState: the state was saved with KV cache type ") +
                                                     ggml_type_name(static_cast<ggml_type>(saved_kv)) + ", this context uses " +
                                                     ggml_type_name(kv_type));
    }
    const auto n_tokens = r.get<uint32_t>();
    if (n_tokens == 0 || n_tokens >= n_ctx_seq) {
        throw native_error(code::STATE_MISMATCH, "loadState: the state holds " + std::to_string(n_tokens) +
                                                     " tokens; a sequence of this context holds fewer than " +
                                                     std::to_string(n_ctx_seq));
    }
    std::vector<llama_token> tokens(n_tokens);
    r.bytes(tokens.data(), tokens.size() * sizeof(llama_token));
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    for (llama_token t : tokens) {
        if (t < 0 || t >= n_vocab) {
            throw native_error(code::STATE_INVALID, "loadState: the state holds a token outside the vocabulary");
        }
    }
    std::string metadata(r.get<uint32_t>(), '\0');
    r.bytes(metadata.data(), metadata.size());
    const auto n_payload = r.get<uint64_t>();
    if (n_payload != r.size - r.at) {
        throw native_error(code::STATE_INVALID, "loadState: the state's length does not add up");
    }
    llama_memory_t mem = llama_get_memory(ctx.get());
    llama_memory_seq_rm(mem, seq, -1, -1);
    s.cached.clear();
    s.opaque = false;
    s.lora.clear();
    size_t read = 0;
    {
        abort_guard guard;
        read = llama_state_seq_set_data(ctx.get(), r.data + r.at, static_cast<size_t>(n_payload), seq);
    }
    if (read == 0 || llama_memory_seq_pos_max(mem, seq) + 1 != static_cast<llama_pos>(n_tokens)) {
        llama_memory_seq_rm(mem, seq, -1, -1);
        throw native_error(code::STATE_MISMATCH,
                           "loadState: llama.cpp rejected the state (saved with other context settings: KV layout, "
                           "flash attention, or a larger context)");
    }
    s.cached = tokens;
    {
        std::lock_guard<std::mutex> lock(mutex); // restored cells count as made with the context's own adapters
        s.lora = default_lora;
    }
    return {std::move(tokens), std::move(metadata)};
}

namespace {

std::vector<uint8_t> read_file(const std::string & path) {
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file) {
        throw native_error(code::STATE_INVALID, "loadState: cannot read " + path);
    }
    const auto size = static_cast<uint64_t>(file.tellg());
    if (size > MAX_STATE_BYTES) {
        throw native_error(code::STATE_INVALID, "loadState: " + path + " is too large to be a state");
    }
    std::vector<uint8_t> data(size);
    file.seekg(0);
    file.read(reinterpret_cast<char *>(data.data()), static_cast<std::streamsize>(size));
    if (!file) {
        throw native_error(code::STATE_INVALID, "loadState: cannot read " + path);
    }
    return data;
}

void write_file(const std::string & path, const std::vector<uint8_t> & data) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
        file.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
        if (!file) {
            std::remove(tmp.c_str());
            throw native_error(code::INVALID_ARGUMENT, "saveState: cannot write " + path);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw native_error(code::INVALID_ARGUMENT, "saveState: cannot write " + path);
    }
}

// `options.sequence`, a sequence of this context (0 .. n_seq - 1).
int32_t required_sequence(Napi::Env env, const Napi::Object & o, uint32_t n_seq, const char * method) {
    const auto seq = static_cast<int32_t>(get_int(o, "sequence", -1, 0, static_cast<int64_t>(n_seq) - 1));
    if (seq < 0) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, std::string(method) + ": sequence is required");
    }
    return seq;
}

} // namespace

Napi::Value Context::SaveState(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "saveState");
    Napi::Object o = require_object(info, 0, "saveState: options");
    const int32_t seq = required_sequence(env, o, options.n_seq, "saveState");
    std::string path = opt_string(o, "path").value_or("");
    std::string metadata = opt_string(o, "metadata").value_or("");
    auto result = std::make_shared<std::vector<uint8_t>>();
    return PromiseWorker::Queue(env, "effect-llama:state-save", {info.This().As<Napi::Object>()},
        [s, seq, path, metadata, result] {
            s->call([&] { *result = s->save_state(seq, metadata); }).get();
            if (!path.empty()) {
                write_file(path, *result);
            }
        },
        [result, path](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("size", static_cast<double>(result->size()));
            if (path.empty()) {
                Napi::Uint8Array data = Napi::Uint8Array::New(env, result->size()); // a plain array, not a Buffer view
                std::copy(result->begin(), result->end(), data.Data());
                o.Set("data", data);
            }
            return o;
        });
}

Napi::Value Context::LoadState(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "loadState");
    Napi::Object o = require_object(info, 0, "loadState: options");
    const int32_t seq = required_sequence(env, o, options.n_seq, "loadState");
    std::string path = opt_string(o, "path").value_or("");
    auto data = std::make_shared<std::vector<uint8_t>>();
    Napi::Value bytes = o.Get("data");
    if (path.empty() == is_missing(bytes)) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "loadState: give exactly one of path and data");
    }
    if (path.empty()) { // the bytes were given instead; a path is read on the worker
        if (!bytes.IsTypedArray() || bytes.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "loadState: data must be a Uint8Array");
        }
        Napi::Uint8Array a = bytes.As<Napi::Uint8Array>();
        data->assign(a.Data(), a.Data() + a.ElementLength());
    }
    auto result = std::make_shared<std::pair<std::vector<llama_token>, std::string>>();
    return PromiseWorker::Queue(env, "effect-llama:state-load", {info.This().As<Napi::Object>()},
        [s, seq, path, data, result] {
            if (!path.empty()) {
                *data = read_file(path);
            }
            s->call([&] { *result = s->load_state(seq, *data); }).get();
        },
        [result](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("tokens", to_int32_array(env, result->first));
            o.Set("metadata", result->second);
            return o;
        });
}

} // namespace effect_llama
