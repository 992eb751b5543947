// Model::ApplyChat and Model::ParseChat live here, beside the rest of the common/chat glue.
#include "abort-guard.h"
#include "chat-families.h"
#include "chat-limits.h"
#include "convert.h"
#include "errors.h"
#include "grammar-checks.h"
#include "model.h"
#include "promise-worker.h"

#include "chat-template.h"
#include "chat.h"
#include "json-schema-to-grammar.h"
#include "json.h"

#include <memory>
#include <regex>
#include <string>

namespace effect_llama {

namespace {

struct apply_input {
    std::string messages_json;
    std::string tools_json;
    std::string tool_choice = "auto";
    std::string json_schema;
    std::string grammar;
    std::string template_override;
    std::string reasoning_format = "none";
    bool parallel_tool_calls = false;
    bool force_tool_call = false;
    bool add_generation_prompt = true;
    bool enable_thinking = true;
    int64_t timeout_ms = DEFAULT_RENDER_TIMEOUT_MS;
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
};

const char * trigger_type_name(common_grammar_trigger_type type) {
    switch (type) {
        case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN:        return "token";
        case COMMON_GRAMMAR_TRIGGER_TYPE_WORD:         return "word";
        case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN:      return "pattern";
        case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: return "pattern_full";
    }
    return "word";
}

// Templates are built once per model (and again only when the override changes).
std::shared_ptr<common_chat_templates> templates_for(model_state & s, const std::string & override_text) {
    std::lock_guard<std::mutex> lock(s.chat_mutex);
    if (!s.chat_templates || s.chat_template_override != override_text) {
        common_chat_templates_ptr built = common_chat_templates_init(s.model.get(), override_text);
        s.chat_templates = std::shared_ptr<common_chat_templates>(built.release(), common_chat_templates_free);
        s.chat_template_override = override_text;
    }
    return s.chat_templates;
}

common_chat_params apply(model_state & s, const apply_input & in, chat_family & family) {
    common_chat_templates_inputs inputs;
    check_json_depth(in.messages_json, "applyChat: messages", code::INVALID_ARGUMENT);
    check_json_depth(in.tools_json, "applyChat: tools", code::INVALID_ARGUMENT);
    check_json_depth(in.json_schema, "applyChat: jsonSchema", code::INVALID_ARGUMENT);
    try {
        inputs.messages = common_chat_msgs_parse_oaicompat(common_json::parse(in.messages_json));
        if (!in.tools_json.empty()) {
            inputs.tools = common_chat_tools_parse_oaicompat(common_json::parse(in.tools_json));
        }
        inputs.tool_choice = common_chat_tool_choice_parse_oaicompat(in.tool_choice);
    } catch (const std::exception & e) {
        throw native_error(code::INVALID_ARGUMENT, std::string("applyChat: ") + e.what());
    }
    inputs.json_schema = in.json_schema;
    inputs.grammar = in.grammar;
    inputs.parallel_tool_calls = in.parallel_tool_calls;
    inputs.add_generation_prompt = in.add_generation_prompt;
    inputs.enable_thinking = in.enable_thinking;
    inputs.reasoning_format = common_reasoning_format_from_name(in.reasoning_format);
    inputs.use_jinja = true;
    render_scope bounded(in.timeout_ms, in.cancel);
    try {
        std::shared_ptr<common_chat_templates> tmpls = templates_for(s, in.template_override);
        return apply_for_family(tmpls.get(), inputs, family);
    } catch (const std::exception & e) {
        bounded.rethrow(e, "applyChat");
    }
}

// With tool_choice "required", common/chat's root rule still allows free text before the first call
// (`root ::= <generation prompt> space until-N? tool-calls`). Dropping that optional element makes the
// first tokens a call. Returns false when the root has no such element (the grammar is left as it is).
bool force_first_call(std::string & grammar) {
    static const std::regex root_until(R"((^|\n)(root ::= [^\n]*?) until-[0-9]+\?( [^\n]*))");
    std::smatch m;
    if (!std::regex_search(grammar, m, root_until)) {
        return false;
    }
    grammar = m.prefix().str() + m[1].str() + m[2].str() + m[3].str() + m.suffix().str();
    return true;
}

// The strings that only the format's markup uses: its preserved tokens and word triggers (for parse_or_plain).
Napi::Array format_markers(Napi::Env env, const common_chat_params & p) {
    Napi::Array markers = Napi::Array::New(env);
    auto add = [&](const std::string & m) {
        if (!m.empty()) {
            markers.Set(markers.Length(), m);
        }
    };
    for (const auto & t : p.preserved_tokens) {
        add(t);
    }
    for (const auto & t : p.grammar_triggers) {
        if (t.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD || t.type == COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN) {
            add(t.value);
        }
    }
    return markers;
}

Napi::Object params_to_js(Napi::Env env, const common_chat_params & p, const apply_input & in, bool forced,
                          const chat_family & family) {
    Napi::Object o = Napi::Object::New(env);
    const bool with_tools = !in.tools_json.empty() && in.tool_choice != "none";
    Napi::Object tool_calls = Napi::Object::New(env);
    tool_calls.Set("family", family.name);
    tool_calls.Set("supported", with_tools ? !p.grammar.empty() : family.tools);
    tool_calls.Set("parallel", family.parallel && family.tools);
    o.Set("toolCalls", tool_calls);
    o.Set("prompt", p.prompt);
    o.Set("grammar", p.grammar);
    o.Set("grammarLazy", p.grammar_lazy);
    o.Set("toolCallForced", forced);
    // The sampler treats template grammars as tool-call grammars (the generation prompt is fed to them).
    o.Set("grammarType", p.grammar.empty() ? "none" : (!in.json_schema.empty() && in.tools_json.empty() ? "output_format" : "tool_calls"));
    Napi::Array triggers = Napi::Array::New(env, p.grammar_triggers.size());
    for (size_t i = 0; i < p.grammar_triggers.size(); i++) {
        Napi::Object t = Napi::Object::New(env);
        t.Set("type", trigger_type_name(p.grammar_triggers[i].type));
        t.Set("value", p.grammar_triggers[i].value);
        triggers.Set(static_cast<uint32_t>(i), t);
    }
    o.Set("grammarTriggers", triggers);
    Napi::Array preserved = Napi::Array::New(env, p.preserved_tokens.size());
    for (size_t i = 0; i < p.preserved_tokens.size(); i++) {
        preserved.Set(static_cast<uint32_t>(i), p.preserved_tokens[i]);
    }
    o.Set("preservedTokens", preserved);
    Napi::Array stops = Napi::Array::New(env, p.additional_stops.size());
    for (size_t i = 0; i < p.additional_stops.size(); i++) {
        stops.Set(static_cast<uint32_t>(i), p.additional_stops[i]);
    }
    o.Set("additionalStops", stops);
    o.Set("generationPrompt", p.generation_prompt);
    o.Set("supportsThinking", p.supports_thinking);
    o.Set("thinkingStartTag", p.thinking_start_tag);
    Napi::Object parser = Napi::Object::New(env);
    parser.Set("format", static_cast<double>(p.format));
    parser.Set("formatName", family.name == "generic" ? std::string(common_chat_format_name(p.format)) : family.name);
    parser.Set("generationPrompt", p.generation_prompt);
    parser.Set("parser", p.parser);
    parser.Set("reasoningFormat", in.reasoning_format);
    parser.Set("markers", format_markers(env, p));
    o.Set("parser", parser);
    return o;
}

// Text that carries none of the format's markup is plain content, even for a format whose parser insists on
// markup (gpt-oss channels, functionary's ">>>all", command-r's response tags): a model, or a test, may answer
// without it. Markup that fails to parse is still an error.
common_chat_msg parse_or_plain(const std::string & text, bool is_partial, const common_chat_parser_params & params,
                               const std::vector<std::string> & markers) {
    try {
        return common_chat_parse(text, is_partial, params);
    } catch (const std::exception &) {
        bool has_markup = markers.empty();
        for (const auto & m : markers) {
            has_markup = has_markup || text.find(m) != std::string::npos;
        }
        if (has_markup) {
            throw;
        }
        common_chat_msg msg;
        msg.role = "assistant";
        msg.content = text;
        return msg;
    }
}

common_chat_parser_params parser_from_js(Napi::Env env, const Napi::Object & o) {
    common_chat_parser_params p;
    int64_t format = get_int(o, "format", 0, 0, COMMON_CHAT_FORMAT_COUNT - 1);
    p.format = static_cast<common_chat_format>(format);
    p.generation_prompt = opt_string(o, "generationPrompt").value_or("");
    p.reasoning_format = common_reasoning_format_from_name(opt_string(o, "reasoningFormat").value_or("none"));
    p.parse_tool_calls = get_bool(o, "parseToolCalls", true);
    std::string arena = opt_string(o, "parser").value_or("");
    if (!arena.empty()) {
        try {
            p.parser.load(arena);
        } catch (const std::exception & e) {
            throw coded_error(env, code::INVALID_ARGUMENT, std::string("parseChat: invalid parser: ") + e.what());
        }
    }
    return p;
}

} // namespace

Napi::Value Model::ApplyChat(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = require_object(info, 0, "applyChat: options");
    auto in = std::make_shared<apply_input>();
    in->messages_json = opt_string(o, "messages").value_or("[]");
    in->tools_json = opt_string(o, "tools").value_or("");
    in->tool_choice = opt_string(o, "toolChoice").value_or("auto");
    in->json_schema = opt_string(o, "jsonSchema").value_or("");
    in->grammar = opt_string(o, "grammar").value_or("");
    in->template_override = opt_string(o, "templateOverride").value_or("");
    in->reasoning_format = opt_string(o, "reasoningFormat").value_or("none");
    in->parallel_tool_calls = get_bool(o, "parallelToolCalls", false);
    in->force_tool_call = get_bool(o, "forceToolCall", false);
    if (in->force_tool_call && in->tool_choice != "required") {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "applyChat: forceToolCall needs toolChoice \"required\"");
    }
    in->add_generation_prompt = get_bool(o, "addGenerationPrompt", true);
    in->enable_thinking = get_bool(o, "enableThinking", true);
    in->timeout_ms = get_int(o, "timeoutMs", DEFAULT_RENDER_TIMEOUT_MS, 1, MAX_RENDER_TIMEOUT_MS);
    std::shared_ptr<model_state> s = loaded_state(env, "applyChat");
    auto result = std::make_shared<common_chat_params>();
    auto forced = std::make_shared<bool>(false);
    auto family = std::make_shared<chat_family>();
    Napi::Promise promise = PromiseWorker::Queue(env, "effect-llama:apply-chat", {info.This().As<Napi::Object>()},
        [s, in, result, forced, family] {
            *result = apply(*s, *in, *family);
            if (in->force_tool_call && !result->grammar_lazy) {
                *forced = force_first_call(result->grammar);
            }
            // e.g. a tool schema whose $ref cycle converts to `a ::= a`: fail here, not at generation
            if (!result->grammar.empty()) {
                std::string why = grammar_problem(s->vocab(), result->grammar);
                if (!why.empty()) {
                    throw native_error(code::GRAMMAR_ERROR, "applyChat: the template's grammar cannot work: " + why);
                }
            }
        },
        [in, result, forced, family](Napi::Env env) { return params_to_js(env, *result, *in, *forced, *family); });
    // promise.cancel(): the render stops within about a thousand template steps and the promise rejects ABORTED.
    promise.Set("cancel", Napi::Function::New(env, [cancel = in->cancel](const Napi::CallbackInfo & ci) {
        cancel->store(true, std::memory_order_relaxed);
        return ci.Env().Undefined();
    }, "cancel"));
    return promise;
}

Napi::Value Model::ParseChat(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string text = require_string(info, 0, "parseChat: text");
    bool is_partial = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    Napi::Object parser = require_object(info, 2, "parseChat: parser");
    common_chat_parser_params params = parser_from_js(env, parser);
    std::vector<std::string> markers = get_strings(parser, "markers");
    loaded_state(env, "parseChat");
    common_chat_msg msg;
    try {
        abort_guard guard;
        msg = parse_or_plain(text, is_partial, params, markers);
    } catch (const std::exception & e) {
        throw coded_error(env, code::PARSE_ERROR, std::string("parseChat: ") + e.what());
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("content", msg.content);
    o.Set("reasoningContent", msg.reasoning_content);
    Napi::Array calls = Napi::Array::New(env, msg.tool_calls.size());
    for (size_t i = 0; i < msg.tool_calls.size(); i++) {
        Napi::Object c = Napi::Object::New(env);
        c.Set("id", msg.tool_calls[i].id);
        c.Set("name", msg.tool_calls[i].name);
        c.Set("arguments", msg.tool_calls[i].arguments);
        calls.Set(static_cast<uint32_t>(i), c);
    }
    o.Set("toolCalls", calls);
    return o;
}

Napi::Value JsonSchemaToGrammar(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string schema = require_string(info, 0, "jsonSchemaToGrammar: schema");
    try {
        abort_guard guard;
        check_json_depth(schema, "the schema", code::GRAMMAR_ERROR);
        std::string grammar = json_schema_to_grammar(common_json::parse(schema));
        std::string why = grammar_problem(nullptr, grammar);
        if (!why.empty()) {
            throw native_error(code::GRAMMAR_ERROR, "the schema converts to a grammar that cannot work (a $ref cycle?): " + why);
        }
        return Napi::String::New(env, grammar);
    } catch (const std::exception & e) {
        throw coded_error(env, code::GRAMMAR_ERROR, std::string("jsonSchemaToGrammar: ") + e.what());
    }
}

} // namespace effect_llama
