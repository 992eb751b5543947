// Bounds on chat template work. A template comes with the model file and JSON comes from callers: both are
// untrusted. Rendering runs under jinja::limits (patches/0003): native stack, steps, output bytes, range sizes,
// nesting, a deadline and a cancel flag. JSON inputs are rejected past a fixed nesting depth before any parser
// (nlohmann, jinja's tojson, json-schema-to-grammar: all recursive) sees them.
// Thread rules: render_scope lives on the thread that renders (a libuv worker); the cancel flag is any thread.
#pragma once

#include "jinja/limits.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace effect_llama {

// Deepest JSON nesting accepted in messages, tools and schemas (documented in docs/hardening.md).
inline constexpr size_t MAX_JSON_DEPTH = 64;

// Default and largest render deadline of one applyChat, in milliseconds.
inline constexpr int64_t DEFAULT_RENDER_TIMEOUT_MS = 30000;
inline constexpr int64_t MAX_RENDER_TIMEOUT_MS = 600000;

// Nesting depth of a JSON text (strings and escapes skipped); stops counting past `limit`. Any thread.
size_t json_depth(const std::string & json, size_t limit);

// Throws native_error(err_code) when `json` nests deeper than MAX_JSON_DEPTH.
void check_json_depth(const std::string & json, const char * what, const char * err_code);

class render_scope {
public:
    render_scope(int64_t timeout_ms, std::shared_ptr<std::atomic<bool>> cancel);

    // Turns what a bounded render threw into our codes: ABORTED when cancelled, TEMPLATE_ERROR when a bound was
    // passed (the engine or common/chat may have rewrapped the exception; the scope remembers). Otherwise rethrows.
    [[noreturn]] void rethrow(const std::exception & e, const std::string & context) const;

private:
    std::shared_ptr<std::atomic<bool>> cancel;
    jinja::limits_scope scope;
};

} // namespace effect_llama
