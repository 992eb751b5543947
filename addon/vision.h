// Vision input through llama.cpp's libmtmd: a model loaded with a projector (mmproj GGUF) reads images. A request
// with images is a list of parts (text, image bytes); the scheduler tokenizes it with mtmd (image parts become
// image chunks of n tokens each), encodes the images and evaluates the whole prompt before its first token.
// Thread rules: load_projector on a worker thread; read_media_prompt on the JS thread; the rest on the scheduler
// thread, one encode at a time per projector (its mutex).
#pragma once

#include "llama.h"

#include <napi.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct mtmd_context;

namespace effect_llama {

struct projector {
    mtmd_context * ctx = nullptr;
    std::mutex mutex;
    ~projector();
};

struct media_part {
    bool is_image = false;
    std::string text;              // text parts
    bool parse_special = true;     // text parts: control-token text becomes control tokens (template markup)
    std::vector<uint8_t> image;    // image parts: the encoded file (PNG, JPEG, ...)
};

struct media_prompt {
    std::vector<media_part> parts;
    bool add_special = true;
};

// Throws native_error(PROJECTOR_LOAD_FAILED) when the file is missing, not a projector, or made for another model.
std::shared_ptr<projector> load_projector(const std::string & path, const llama_model * model, bool use_gpu);

// [{ text, parseSpecial? } | { image: Uint8Array }], INVALID_ARGUMENT otherwise.
std::shared_ptr<media_prompt> read_media_prompt(Napi::Env env, const Napi::Value & parts, bool add_special);

} // namespace effect_llama
