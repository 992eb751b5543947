#include "chat-families.h"

#include <initializer_list>

namespace effect_llama {

namespace {

struct rule {
    const char * name;
    bool parallel;      // false also means: no tool format (the last rules)
    std::initializer_list<const char *> all_of;
    std::initializer_list<const char *> none_of;
};

// First match wins: specific markers before the generic ones they contain.
const rule rules[] = {
    // a generation ends at <|call|> (end of generation): one call per turn
    {"gpt-oss", false, {"<|channel|>"}, {}},
    {"muse-glimmer", true, {"<atem:function_calls>"}, {}},
    {"functionary-v3.2", true, {">>>all"}, {}},
    {"functionary-v3.1", true, {"<function=", "<|start_header_id|>"}, {}},
    {"kimi-k2", true, {"<|tool_calls_section_begin|>"}, {}},
    {"kimi-k3", true, {"<|open|>", "<|end_of_msg|>"}, {}},
    {"ling-3", true, {"<role>ASSISTANT</role>"}, {}},
    {"cohere2moe", true, {"<|START_TEXT|>", "<|START_ACTION|>"}, {}},
    {"command-r7b", true, {"<|START_ACTION|>"}, {}},
    {"command-r-plus", true, {"<|CHATBOT_TOKEN|>", "Action:"}, {}},
    {"lfm2", true, {"<|tool_list_start|>"}, {}},
    {"lfm2.5", true, {"List of tools: ["}, {}},
    // the template renders only the first call of a turn
    {"gigachat3.1", false, {"<|role_sep|>", "<|function_call|>"}, {}},
    {"gigachat3", false, {"<|role_sep|>", "<|message_sep|>"}, {}},
    {"minimax-m3", true, {"]<]minimax[>["}, {}},
    {"minimax-m2", true, {"<minimax:tool_call>"}, {}},
    {"minimax-m1", true, {"<beginning_of_sentence>", "<tool_calls>"}, {}},
    {"deepseek-v3.2", true, {"dsml_token", "function_calls"}, {}},
    {"deepseek-v4", true, {"dsml_token", "tool_calls"}, {}},
    {"gemma-4", true, {"<|tool_call>"}, {}},
    {"minicpm5", true, {"<function name=\"", "<param name=\""}, {}},
    {"qwen3-coder", true, {"<tool_call>", "<function=", "<parameter="}, {}},
    {"seed-oss", true, {"<seed:tool_call>"}, {}},
    {"hy3", true, {"HYTK", "tool_calls{}"}, {}},
    {"glm", true, {"<tool_call>", "<arg_key>"}, {}},
    {"solar-open", true, {"<|tool_call:begin|>"}, {}},
    {"mistral-small-3.2", true, {"[TOOL_CALLS]", "[CALL_ID]"}, {}},
    {"ministral-3", true, {"[TOOL_CALLS]", "[ARGS]"}, {}},
    {"mistral-nemo", true, {"[TOOL_CALLS]"}, {}},
    {"apertus", true, {"<|tools_prefix|>"}, {}},
    {"apriel-1.6", true, {"[BEGIN FINAL RESPONSE]", "<|begin_assistant|>"}, {}},
    {"apriel-1.5", true, {"<tool_calls>", "<|assistant|>"}, {}},
    {"nemotron-nano-v2", true, {"<TOOLCALL>"}, {}},
    {"deepseek-v3.1", true, {"<｜tool▁calls▁begin｜>"}, {"```json"}},
    {"deepseek-r1", true, {"tool▁sep"}, {}},
    {"firefunction-v2", true, {"functools["}, {}},
    {"granite-3.3", true, {"<|tool_call|>"}, {}},
    // the template raises on a turn with more than one call
    {"llama-3.x", false, {"<|start_header_id|>", "\"parameters\": "}, {}},
    {"hermes", true, {"<tool_call>"}, {}},
    // no tool format: the template renders no tools
    {"smollm3", false, {"SmolLM"}, {}},
    {"gemma-2", false, {"<start_of_turn>"}, {}},
    {"phi-3.5", false, {"<|assistant|>", "<|end|>"}, {}},
    {"rwkv-world", false, {"User: ", "Assistant: "}, {}},
};

} // namespace

chat_family detect_chat_family(const std::string & src) {
    for (const rule & r : rules) {
        bool match = true;
        for (const char * m : r.all_of) {
            match = match && src.find(m) != std::string::npos;
        }
        for (const char * m : r.none_of) {
            match = match && src.find(m) == std::string::npos;
        }
        if (match) {
            const std::string name = r.name;
            const bool no_tools = name == "smollm3" || name == "gemma-2" || name == "phi-3.5" || name == "rwkv-world";
            return {name, r.parallel, !no_tools};
        }
    }
    return {"generic", true};
}

} // namespace effect_llama

namespace effect_llama {

namespace {

// The family of the template that renders this request (the tool_use variant when tools are given and exists).
chat_family family_of(const common_chat_templates * tmpls, bool with_tools) {
    std::string src = with_tools ? common_chat_templates_source(tmpls, "tool_use") : std::string();
    return detect_chat_family(src.empty() ? common_chat_templates_source(tmpls, "") : src);
}

bool renders_tools(const std::string & prompt, const std::vector<common_chat_tool> & tools) {
    for (const auto & tool : tools) {
        if (prompt.find(tool.name) == std::string::npos) {
            return false;
        }
    }
    return true;
}

// The tools as the system message's first lines (in a system message of their own when there is none).
void describe_tools(common_chat_templates_inputs & inputs) {
    common_json list = common_json::array();
    for (const auto & tool : inputs.tools) {
        list.push_back({
            { "name", tool.name },
            { "description", tool.description },
            { "parameters", tool.parameters.empty() ? common_json::object() : common_json::parse(tool.parameters) },
        });
    }
    const std::string text = "You can call these tools (their parameters are JSON Schemas):\n" + list.dump(2);
    if (!inputs.messages.empty() && inputs.messages.front().role == "system") {
        auto & system = inputs.messages.front();
        if (!system.content_parts.empty()) {
            system.content_parts.insert(system.content_parts.begin(), common_chat_msg_content_part{ "text", text + "\n\n" });
        } else {
            system.content = text + (system.content.empty() ? "" : "\n\n" + system.content);
        }
        return;
    }
    common_chat_msg system;
    system.role = "system";
    system.content = text;
    inputs.messages.insert(inputs.messages.begin(), system);
}

} // namespace

common_chat_params apply_for_family(const common_chat_templates * tmpls, common_chat_templates_inputs & inputs,
                                    chat_family & family) {
    const bool with_tools = !inputs.tools.empty() && inputs.tool_choice != COMMON_CHAT_TOOL_CHOICE_NONE;
    family = family_of(tmpls, !inputs.tools.empty());
    if (family.name == "firefunction-v2" && with_tools) {
        // the template reads a JSON text `functions` (and `datetime`), not `tools`
        common_json list = common_json::array();
        for (const auto & tool : inputs.tools) {
            list.push_back({ { "name", tool.name }, { "description", tool.description },
                             { "parameters", tool.parameters.empty() ? common_json::object() : common_json::parse(tool.parameters) } });
        }
        inputs.chat_template_kwargs["functions"] = common_json(list.dump(2)).dump();
        inputs.chat_template_kwargs["datetime"] = common_json("today").dump();
    }
    common_chat_params out = common_chat_templates_apply(tmpls, inputs);
    if (with_tools && !out.grammar.empty() && !renders_tools(out.prompt, inputs.tools)) {
        describe_tools(inputs);
        out = common_chat_templates_apply(tmpls, inputs);
    }
    if (with_tools && !family.parallel && inputs.parallel_tool_calls) {
        inputs.parallel_tool_calls = false;
        common_chat_params strict = common_chat_templates_apply(tmpls, inputs);
        strict.parser = out.parser; // reads several calls; the grammar allows one
        out = std::move(strict);
    }
    return out;
}

} // namespace effect_llama
