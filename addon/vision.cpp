// Vision (vision.h): projector loading, media prompts, and scheduler::start_media, which evaluates a multimodal
// prompt with mtmd's helpers before the job joins the batch as a generating sequence.
#include "vision.h"

#include "abort-guard.h"
#include "common.h"
#include "compute-budget.h"
#include "convert.h"
#include "errors.h"
#include "log-bridge.h"
#include "scheduler-job.h"

#include "mtmd-helper.h"
#include "mtmd.h"

#include <chrono>
#include <filesystem>

namespace effect_llama {

namespace {

// mtmd logs through its own logger (stderr by default): send it where llama.cpp's logs go.
void route_mtmd_logs() {
    static std::once_flag once;
    std::call_once(once, [] {
        ggml_log_callback cb = nullptr;
        void * user_data = nullptr;
        llama_log_get(&cb, &user_data);
        mtmd_log_set(cb, user_data);
        mtmd_helper_log_set(cb, user_data);
    });
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

projector::~projector() {
    if (ctx != nullptr) {
        mtmd_free(ctx);
    }
}

std::shared_ptr<projector> load_projector(const std::string & path, const llama_model * model, bool use_gpu) {
    route_mtmd_logs();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw native_error(code::PROJECTOR_LOAD_FAILED, "projector file not found: " + path);
    }
    mtmd_context_params params = mtmd_context_params_default();
    params.use_gpu = use_gpu;
    params.print_timings = false;
    params.n_threads = common_cpu_get_num_math();
    params.warmup = false;
    auto p = std::make_shared<projector>();
    log_clear_last_error();
    {
        abort_guard guard; // a damaged projector fails the load, not the process
        p->ctx = mtmd_init_from_file(path.c_str(), model, params);
    }
    if (p->ctx == nullptr) {
        std::string why = log_last_error();
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        throw native_error(code::PROJECTOR_LOAD_FAILED,
                           "llama.cpp could not load the projector " + path + (why.empty() ? "" : ": " + why));
    }
    if (!mtmd_support_vision(p->ctx)) {
        throw native_error(code::PROJECTOR_LOAD_FAILED, "the projector " + path + " has no vision encoder");
    }
    return p;
}

std::shared_ptr<media_prompt> read_media_prompt(Napi::Env env, const Napi::Value & value, bool add_special) {
    if (!value.IsArray()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: parts must be an array");
    }
    auto prompt = std::make_shared<media_prompt>();
    prompt->add_special = add_special;
    Napi::Array a = value.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value item = a.Get(i);
        if (!item.IsObject()) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: each part must be { text } or { image }");
        }
        Napi::Object o = item.As<Napi::Object>();
        media_part part;
        Napi::Value image = o.Get("image");
        std::optional<std::string> text = opt_string(o, "text");
        if (text.has_value() == !is_missing(image)) {
            throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: each part must be { text } or { image }");
        }
        if (text) {
            part.text = *text;
            part.parse_special = get_bool(o, "parseSpecial", true);
        } else {
            if (!image.IsTypedArray() || image.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
                throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: an image part's image must be a Uint8Array");
            }
            Napi::Uint8Array bytes = image.As<Napi::Uint8Array>();
            if (bytes.ElementLength() == 0) {
                throw coded_type_error(env, code::INVALID_MEDIA, "generate: image part " + std::to_string(i) + " is empty");
            }
            part.is_image = true;
            part.image.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
        }
        prompt->parts.push_back(std::move(part));
    }
    if (prompt->parts.empty()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "generate: the prompt is empty");
    }
    return prompt;
}

void scheduler::start_media(const std::shared_ptr<job> & jp, event_batch & out) {
    job & j = *jp;
    const int32_t seq = j.gen.sequence;
    llama_memory_t mem = llama_get_memory(ctx.get());
    try {
        abort_guard guard;
        j.t_start = now_ms();
        std::shared_ptr<projector> proj = model->vision;
        if (!proj) {
            throw native_error(code::NO_PROJECTOR, "the model was loaded without a projector: it cannot read images");
        }
        generate_request & g = j.gen;
        std::lock_guard<std::mutex> lock(proj->mutex);
        std::vector<mtmd::bitmap_ptr> bitmaps;
        std::vector<mtmd_input_text> texts(g.media->parts.size());
        std::vector<mtmd_input_part> parts(g.media->parts.size());
        std::vector<const mtmd_input_part *> part_ptrs;
        for (size_t i = 0; i < g.media->parts.size(); i++) {
            const media_part & p = g.media->parts[i];
            if (p.is_image) {
                mtmd_helper_bitmap_wrapper w = mtmd_helper_bitmap_init_from_buf(
                    proj->ctx, p.image.data(), p.image.size(), false, mtmd_helper_init_opt_default());
                if (w.bitmap == nullptr) {
                    throw native_error(code::INVALID_MEDIA, "part " + std::to_string(i) + " is not an image the projector can read");
                }
                bitmaps.emplace_back(w.bitmap);
                parts[i] = {nullptr, w.bitmap};
            } else {
                texts[i] = {p.text.c_str(), p.text.size(), false, p.parse_special};
                parts[i] = {&texts[i], nullptr};
            }
            part_ptrs.push_back(&parts[i]);
        }
        mtmd::input_chunks_ptr chunks(mtmd_input_chunks_init());
        if (mtmd_tokenize_from_parts(proj->ctx, chunks.get(), part_ptrs.data(), part_ptrs.size(), g.media->add_special) != 0) {
            throw native_error(code::INVALID_MEDIA, "mtmd could not tokenize the prompt's text and images");
        }
        const size_t n_tokens = mtmd_helper_get_n_tokens(chunks.get());
        const llama_pos n_pos = mtmd_helper_get_n_pos(chunks.get());
        if (n_tokens == 0) {
            throw native_error(code::INVALID_ARGUMENT, "the prompt is empty");
        }
        if (static_cast<uint32_t>(n_pos) >= n_ctx_seq) {
            throw native_error(code::CONTEXT_OVERFLOW, "the prompt has " + std::to_string(n_tokens) +
                                                           " tokens with its images; a sequence of this context holds " +
                                                           std::to_string(n_ctx_seq));
        }
        j.prompt.clear();
        for (size_t c = 0; c < mtmd_input_chunks_size(chunks.get()); c++) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks.get(), c);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                size_t n = 0;
                const llama_token * t = mtmd_input_chunk_get_tokens_text(chunk, &n);
                j.prompt.insert(j.prompt.end(), t, t + n);
            } else {
                const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
                j.n_image_tokens += static_cast<int32_t>(n);
                j.prompt.insert(j.prompt.end(), n, LLAMA_TOKEN_NULL); // counted in usage, never decoded as tokens
            }
        }
        j.sampler = make_sampler(model->model.get(), g.sampling, j.preserved);
        j.greedy = is_plain_greedy(model->model.get(), g.sampling);
        if (!j.greedy) {
            for (llama_token t : j.prompt) {
                if (t != LLAMA_TOKEN_NULL) {
                    common_sampler_accept(j.sampler.get(), t, false);
                }
            }
        }
        j.text = std::make_unique<text_stream>(g.stops);
        if (g.lora) {
            j.lora = *g.lora;
        } else {
            std::lock_guard<std::mutex> lora_lock(mutex);
            j.lora = default_lora;
        }
        if (!same_lora(applied_lora, j.lora)) {
            apply_lora(ctx.get(), j.lora);
            applied_lora = j.lora;
        }
        // The sequence starts over; its cells hold image embeddings from now on (no prefix reuse, no state save).
        slot & s = slots[seq];
        llama_memory_seq_rm(mem, seq, -1, -1);
        s.cached.clear();
        s.opaque = true;
        s.lora = j.lora;
        llama_pos n_past = 0;
        int32_t ret = 2;
        {
            compute_turn turn(compute_budget::global(), threads_for(static_cast<int32_t>(n_batch)), abort_pending);
            if (turn.granted() && !j.aborted.load()) {
                ret = mtmd_helper_eval_chunks(proj->ctx, ctx.get(), chunks.get(), 0, seq, static_cast<int32_t>(n_batch), true, &n_past);
            }
        }
        if (ret != 0) {
            llama_memory_seq_rm(mem, seq, -1, -1);
            if (j.aborted.load()) {
                finish(j, "abort", out);
                return;
            }
            throw native_error(code::COMPUTE_ERROR, "evaluating the prompt's text and images failed (code " + std::to_string(ret) + ")");
        }
        j.n_prompt_done = j.prompt.size();
        j.n_past = n_past;
        j.batch_output = -1; // the last output of the prompt's evaluation
        after_decode(j, out);
    } catch (const native_error & e) {
        fail(j, e.code, e.what(), out);
        return;
    } catch (const std::exception & e) {
        fail(j, code::INTERNAL, e.what(), out);
        return;
    }
    if (!j.finished) {
        slots[seq].active = jp;
        running.push_back(jp);
    }
}

} // namespace effect_llama
