#include "chat-limits.h"

#include "errors.h"

#include <chrono>

namespace effect_llama {

namespace {

jinja::limits bounds(int64_t timeout_ms, const std::atomic<bool> * cancel) {
    jinja::limits l;
    l.max_stack_bytes = 1 << 20;     // libuv workers have 8 MiB; a real template needs a few KiB per level
    l.max_steps = 20000000;          // per render; the largest templates we ship take about 1e5
    l.max_string_bytes = 64u << 20;  // bytes appended per render (a 100k-token chat needs a few MiB)
    l.max_items = 1000000;           // one range() or repetition
    l.max_nesting = 256;             // arrays and objects a template builds (inputs are capped at 64 already)
    l.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    l.cancel = cancel;
    return l;
}

} // namespace

size_t json_depth(const std::string & json, size_t limit) {
    size_t depth = 0;
    size_t deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < json.size(); i++) {
        char c = json[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit) {
                    return deepest;
                }
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

void check_json_depth(const std::string & json, const char * what, const char * err_code) {
    if (json_depth(json, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        throw native_error(err_code, std::string(what) + " is nested more than " + std::to_string(MAX_JSON_DEPTH) +
                                         " levels deep");
    }
}

render_scope::render_scope(int64_t timeout_ms, std::shared_ptr<std::atomic<bool>> cancel_flag)
    : cancel(std::move(cancel_flag)), scope(bounds(timeout_ms, cancel.get())) {}

void render_scope::rethrow(const std::exception & e, const std::string & context) const {
    switch (scope.tripped()) {
        case jinja::limit_kind::cancelled:
            throw native_error(code::ABORTED, context + ": cancelled");
        case jinja::limit_kind::exceeded:
            throw native_error(code::TEMPLATE_ERROR, context + ": the chat template passed a limit: " + scope.message());
        case jinja::limit_kind::none:
            break;
    }
    if (const auto * n = dynamic_cast<const native_error *>(&e)) {
        throw *n;
    }
    throw native_error(code::TEMPLATE_ERROR, context + ": " + e.what());
}

} // namespace effect_llama
