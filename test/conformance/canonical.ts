// The canonical output of every template family in vendor/llama.cpp/models/templates for one call to
// get_weather({ city: "Paris", days: 2 }) and for that call followed by get_time({ zone: "UTC" }): what a model of
// that family generates after the template's generation prompt (thinking disabled). Most are the template's own
// rendering of those calls in a past turn; the rest follow the family's documented format. A family listed as
// unsupported has no tool format; docs/tool-call-formats.md says why and what to use instead.

export type Canonical =
  | { readonly family: string; readonly one: string; readonly two: string }
  | { readonly family: string; readonly unsupported: string }

export const canonical: Readonly<Record<string, Canonical>> = {
  "Apertus-8B-Instruct.jinja": {
    family: "apertus",
    one: "<|tools_prefix|>[{\"get_weather\": {\"city\": \"Paris\", \"days\": 2}}]<|tools_suffix|>",
    two: "<|tools_prefix|>[{\"get_weather\": {\"city\": \"Paris\", \"days\": 2}}, {\"get_time\": {\"zone\": \"UTC\"}}]<|tools_suffix|>"
  },
  "Apriel-1.6-15b-Thinker-fixed.jinja": {
    family: "apriel-1.6",
    one: "\n<tool_calls>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]</tool_calls>",
    two: "\n<tool_calls>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]</tool_calls>"
  },
  "Bielik-11B-v3.0-Instruct.jinja": {
    family: "hermes",
    one: "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "ByteDance-Seed-OSS.jinja": {
    family: "seed-oss",
    one: "<seed:tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</seed:tool_call>",
    two: "<seed:tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</seed:tool_call>\n<seed:tool_call>\n<function=get_time>\n<parameter=zone>UTC</parameter>\n</function>\n</seed:tool_call>"
  },
  "Cohere2MoE.jinja": {
    family: "cohere2moe",
    one: "<|END_THINKING|><|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}\n]<|END_ACTION|>",
    two: "<|END_THINKING|><|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}},\n    {\"tool_call_id\": \"1\", \"tool_name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}\n]<|END_ACTION|>"
  },
  "CohereForAI-c4ai-command-r-plus-tool_use.jinja": {
    family: "command-r-plus",
    one: "Action:\n```json\n[\n    {\n        \"tool_name\": \"get_weather\",\n        \"parameters\": {\"city\": \"Paris\", \"days\": 2}\n    }\n]\n```",
    two: "Action:\n```json\n[\n    {\n        \"tool_name\": \"get_weather\",\n        \"parameters\": {\"city\": \"Paris\", \"days\": 2}\n    },\n    {\n        \"tool_name\": \"get_time\",\n        \"parameters\": {\"zone\": \"UTC\"}\n    }\n]\n```"
  },
  "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja": {
    family: "command-r7b",
    one: "<|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}\n]<|END_ACTION|>",
    two: "<|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}},\n    {\"tool_call_id\": \"1\", \"tool_name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}\n]<|END_ACTION|>"
  },
  "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja": { family: "deepseek-r1", unsupported: "this R1 distill template renders no tools (use llama-cpp-deepseek-r1.jinja, which does)" },
  "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja": {
    family: "deepseek-r1",
    one: "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    two: "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 2}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"zone\": \"UTC\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
  },
  "deepseek-ai-DeepSeek-V3.1.jinja": {
    family: "deepseek-v3.1",
    one: "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\", \"days\": 2}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    two: "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\", \"days\": 2}<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{\"zone\": \"UTC\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
  },
  "deepseek-ai-DeepSeek-V3.2.jinja": {
    family: "deepseek-v3.2",
    one: "\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>",
    two: "\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n<｜DSML｜invoke name=\"get_time\">\n<｜DSML｜parameter name=\"zone\" string=\"true\">UTC</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>"
  },
  "deepseek-ai-DeepSeek-V4-Flash-0731.jinja": {
    family: "deepseek-v4",
    one: "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>",
    two: "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n<｜DSML｜invoke name=\"get_time\">\n<｜DSML｜parameter name=\"zone\" string=\"true\">UTC</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>"
  },
  "deepseek-ai-DeepSeek-V4.jinja": {
    family: "deepseek-v4",
    one: "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>",
    two: "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n<｜DSML｜invoke name=\"get_time\">\n<｜DSML｜parameter name=\"zone\" string=\"true\">UTC</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>"
  },
  "fireworks-ai-llama-3-firefunction-v2.jinja": {
    family: "firefunction-v2",
    one: " functools[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]",
    two: " functools[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]"
  },
  "GigaChat3-10B-A1.8B.jinja": {
    family: "gigachat3",
    one: "<|message_sep|>\n\nfunction call<|role_sep|>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}",
    two: "<|message_sep|>\n\nfunction call<|role_sep|>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}<|message_sep|>\n\nfunction call<|role_sep|>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}"
  },
  "GigaChat3.1-10B-A1.8B.jinja": {
    family: "gigachat3.1",
    one: "<|function_call|>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}",
    two: "<|function_call|>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}<|message_sep|>\n\n<|function_call|>{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}"
  },
  "GLM-4.6.jinja": {
    family: "glm",
    one: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
    two: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>\n<tool_call>get_time\n<arg_key>zone</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>"
  },
  "GLM-4.7-Flash.jinja": {
    family: "glm",
    one: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call>",
    two: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call><tool_call>get_time<arg_key>zone</arg_key><arg_value>UTC</arg_value></tool_call>"
  },
  "google-gemma-2-2b-it.jinja": { family: "gemma-2", unsupported: "Gemma 2 has no tool format: the template renders no tools" },
  "google-gemma-4-31B-it-interleaved.jinja": {
    family: "gemma-4",
    one: "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2}<tool_call|>",
    two: "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2}<tool_call|><|tool_call>call:get_time{zone:<|\"|>UTC<|\"|>}<tool_call|>"
  },
  "google-gemma-4-31B-it.jinja": {
    family: "gemma-4",
    one: "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2}<tool_call|>",
    two: "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2}<tool_call|><|tool_call>call:get_time{zone:<|\"|>UTC<|\"|>}<tool_call|>"
  },
  "HuggingFaceTB-SmolLM3-3B.jinja": { family: "smollm3", unsupported: "this SmolLM3 template renders neither the tools nor the tool calls of past turns" },
  "ibm-granite-granite-3.3-2B-Instruct.jinja": {
    family: "granite-3.3",
    one: "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]",
    two: "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]"
  },
  "ibm-granite-granite-4.0.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "ibm-granite-granite-4.1.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "inclusionai-ling-3.0-flash.jinja": {
    family: "ling-3",
    one: "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value><arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
    two: "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value><arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>\n<tool_call>get_time\n<arg_key>zone</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>"
  },
  "Kimi-K2-Instruct.jinja": {
    family: "kimi-k2",
    one: "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_calls_section_end|>",
    two: "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{\"zone\": \"UTC\"}<|tool_call_end|><|tool_calls_section_end|>"
  },
  "Kimi-K2-Thinking.jinja": {
    family: "kimi-k2",
    one: "<think></think><|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_calls_section_end|>",
    two: "<think></think><|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{\"zone\": \"UTC\"}<|tool_call_end|><|tool_calls_section_end|>"
  },
  "Kimi-K3.jinja": {
    family: "kimi-k3",
    one: "<|close|>think<|sep|><|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|><|open|>call tool=\"get_weather\" index=\"1\"<|sep|><|open|>argument key=\"city\" type=\"string\"<|sep|>Paris<|close|>argument<|sep|><|open|>argument key=\"days\" type=\"number\"<|sep|>2<|close|>argument<|sep|><|close|>call<|sep|><|close|>tools<|sep|><|close|>message<|sep|><|end_of_msg|>",
    two: "<|close|>think<|sep|><|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|><|open|>call tool=\"get_weather\" index=\"1\"<|sep|><|open|>argument key=\"city\" type=\"string\"<|sep|>Paris<|close|>argument<|sep|><|open|>argument key=\"days\" type=\"number\"<|sep|>2<|close|>argument<|sep|><|close|>call<|sep|><|open|>call tool=\"get_time\" index=\"2\"<|sep|><|open|>argument key=\"zone\" type=\"string\"<|sep|>UTC<|close|>argument<|sep|><|close|>call<|sep|><|close|>tools<|sep|><|close|>message<|sep|><|end_of_msg|>"
  },
  "LFM2-8B-A1B.jinja": {
    family: "lfm2",
    one: "<|tool_call_start|>[get_weather(city=\"Paris\", days=2)]<|tool_call_end|>",
    two: "<|tool_call_start|>[get_weather(city=\"Paris\", days=2), get_time(zone=\"UTC\")]<|tool_call_end|>"
  },
  "LFM2.5-8B-A1B.jinja": {
    family: "lfm2.5",
    one: "<|tool_call_start|>[get_weather(city='Paris', days=2)]<|tool_call_end|>",
    two: "<|tool_call_start|>[get_weather(city='Paris', days=2), get_time(zone='UTC')]<|tool_call_end|>"
  },
  "LFM2.5-Instruct.jinja": {
    family: "lfm2.5",
    one: "<|tool_call_start|>[get_weather(city=\"Paris\", days=2)]<|tool_call_end|>",
    two: "<|tool_call_start|>[get_weather(city=\"Paris\", days=2), get_time(zone=\"UTC\")]<|tool_call_end|>"
  },
  "llama-cpp-deepseek-r1.jinja": {
    family: "deepseek-r1",
    one: "</think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    two: "</think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 2}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"zone\": \"UTC\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
  },
  "llama-cpp-rwkv-world.jinja": { family: "rwkv-world", unsupported: "RWKV World has no tool format: the template renders no tools" },
  "meetkai-functionary-medium-v3.1.jinja": {
    family: "functionary-v3.1",
    one: "<function=get_weather>{\"city\": \"Paris\", \"days\": 2}</function><|eom_id|>",
    two: "<function=get_weather>{\"city\": \"Paris\", \"days\": 2}</function><function=get_time>{\"zone\": \"UTC\"}</function><|eom_id|>"
  },
  "meetkai-functionary-medium-v3.2.jinja": {
    family: "functionary-v3.2",
    one: "get_weather\n{\"city\":\"Paris\",\"days\":2}",
    two: "get_weather\n{\"city\":\"Paris\",\"days\":2}>>>get_time\n{\"zone\":\"UTC\"}"
  },
  "meta-llama-Llama-3.1-8B-Instruct.jinja": {
    family: "llama-3.x",
    one: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}",
    two: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}; {\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}"
  },
  "meta-llama-Llama-3.2-3B-Instruct.jinja": {
    family: "llama-3.x",
    one: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}",
    two: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}; {\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}"
  },
  "meta-llama-Llama-3.3-70B-Instruct.jinja": {
    family: "llama-3.x",
    one: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}",
    two: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}; {\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}"
  },
  "microsoft-Phi-3.5-mini-instruct.jinja": { family: "phi-3.5", unsupported: "Phi-3.5 has no tool format: the template renders no tools" },
  "MiMo-VL.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "MiniMax-M1.jinja": {
    family: "minimax-m1",
    one: "<tool_calls>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_calls>",
    two: "<tool_calls>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_calls>"
  },
  "MiniMax-M2.jinja": {
    family: "minimax-m2",
    one: "</think>\n\n<minimax:tool_call>\n<invoke name=\"get_weather\">\n<parameter name=\"city\">Paris</parameter>\n<parameter name=\"days\">2</parameter>\n</invoke>\n</minimax:tool_call>",
    two: "</think>\n\n<minimax:tool_call>\n<invoke name=\"get_weather\">\n<parameter name=\"city\">Paris</parameter>\n<parameter name=\"days\">2</parameter>\n</invoke>\n<invoke name=\"get_time\">\n<parameter name=\"zone\">UTC</parameter>\n</invoke>\n</minimax:tool_call>"
  },
  "MiniMax-M3.jinja": {
    family: "minimax-m3",
    one: "</mm:think>]<]minimax[>[<tool_call>\n]<]minimax[>[<invoke name=\"get_weather\">]<]minimax[>[<city>Paris]<]minimax[>[</city>]<]minimax[>[<days>2]<]minimax[>[</days>]<]minimax[>[</invoke>\n]<]minimax[>[</tool_call>",
    two: "</mm:think>]<]minimax[>[<tool_call>\n]<]minimax[>[<invoke name=\"get_weather\">]<]minimax[>[<city>Paris]<]minimax[>[</city>]<]minimax[>[<days>2]<]minimax[>[</days>]<]minimax[>[</invoke>\n]<]minimax[>[<invoke name=\"get_time\">]<]minimax[>[<zone>UTC]<]minimax[>[</zone>]<]minimax[>[</invoke>\n]<]minimax[>[</tool_call>"
  },
  "Mistral-Small-3.2-24B-Instruct-2506.jinja": {
    family: "mistral-small-3.2",
    one: "[TOOL_CALLS]get_weather[CALL_ID]A1b2C3d4E[ARGS]{\"city\": \"Paris\", \"days\": 2}",
    two: "[TOOL_CALLS]get_weather[CALL_ID]A1b2C3d4E[ARGS]{\"city\": \"Paris\", \"days\": 2}[TOOL_CALLS]get_time[CALL_ID]Z9y8X7w6V[ARGS]{\"zone\": \"UTC\"}"
  },
  "mistralai-Ministral-3-14B-Reasoning-2512.jinja": {
    family: "ministral-3",
    one: "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 2}",
    two: "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 2}[TOOL_CALLS]get_time[ARGS]{\"zone\": \"UTC\"}"
  },
  "mistralai-Mistral-Nemo-Instruct-2407.jinja": {
    family: "mistral-nemo",
    one: "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}, \"id\": \"A1b2C3d4E\"}]",
    two: "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}, \"id\": \"A1b2C3d4E\"}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}, \"id\": \"Z9y8X7w6V\"}]"
  },
  "moonshotai-Kimi-K2.jinja": {
    family: "kimi-k2",
    one: "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_calls_section_end|>",
    two: "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{\"zone\": \"UTC\"}<|tool_call_end|><|tool_calls_section_end|>"
  },
  "muse-glimmer.jinja": {
    family: "muse-glimmer",
    one: " to=get_weather<|message|><atem:function_calls>\n<atem:invoke name=\"get_weather\">\n<atem:parameter name=\"city\">Paris</atem:parameter>\n<atem:parameter name=\"days\">2</atem:parameter>\n</atem:invoke>\n</atem:function_calls>",
    two: " to=get_weather<|message|><atem:function_calls>\n<atem:invoke name=\"get_weather\">\n<atem:parameter name=\"city\">Paris</atem:parameter>\n<atem:parameter name=\"days\">2</atem:parameter>\n</atem:invoke>\n</atem:function_calls><|eom|><|start|>assistant to=get_time<|message|><atem:function_calls>\n<atem:invoke name=\"get_time\">\n<atem:parameter name=\"zone\">UTC</atem:parameter>\n</atem:invoke>\n</atem:function_calls>"
  },
  "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.jinja": {
    family: "qwen3-coder",
    one: "\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
    two: "\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"
  },
  "NVIDIA-Nemotron-Nano-v2.jinja": {
    family: "nemotron-nano-v2",
    one: "</think>\n<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]</TOOLCALL>",
    two: "</think>\n<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]</TOOLCALL>"
  },
  "openai-gpt-oss-120b.jinja": {
    family: "gpt-oss",
    one: " to=functions.get_weather<|channel|>commentary json<|message|>{\"city\": \"Paris\", \"days\": 2}<|call|>",
    two: " to=functions.get_weather<|channel|>commentary json<|message|>{\"city\": \"Paris\", \"days\": 2}<|call|><|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{\"zone\": \"UTC\"}<|call|>"
  },
  "openbmb-MiniCPM5-1B.jinja": {
    family: "minicpm5",
    one: "<function name=\"get_weather\"><param name=\"city\">Paris</param><param name=\"days\">2</param></function>",
    two: "<function name=\"get_weather\"><param name=\"city\">Paris</param><param name=\"days\">2</param></function>\n<function name=\"get_time\"><param name=\"zone\">UTC</param></function>"
  },
  "poolside-Laguna-S-2.1.jinja": {
    family: "glm",
    one: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call>",
    two: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call><tool_call>get_time<arg_key>zone</arg_key><arg_value>UTC</arg_value></tool_call>"
  },
  "poolside-Laguna-XS-2.1.jinja": {
    family: "glm",
    one: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
    two: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>\n<tool_call>get_time\n<arg_key>zone</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>"
  },
  "poolside-Laguna-XS.2.jinja": {
    family: "glm",
    one: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
    two: "\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>\n<tool_call>get_time\n<arg_key>zone</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>"
  },
  "Qwen-Qwen2.5-7B-Instruct.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "Qwen-Qwen3-0.6B.jinja": {
    family: "hermes",
    one: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "Qwen-QwQ-32B.jinja": {
    family: "hermes",
    one: "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "Qwen3-Coder.jinja": {
    family: "qwen3-coder",
    one: "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
    two: "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"
  },
  "Qwen3.5-4B.jinja": {
    family: "qwen3-coder",
    one: "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
    two: "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"
  },
  "Reka-Edge.jinja": {
    family: "hermes",
    one: " <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
    two: " <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call><tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
  },
  "Spark2.5.jinja": {
    family: "glm",
    one: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call>",
    two: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call><tool_call>get_time<arg_key>zone</arg_key><arg_value>UTC</arg_value></tool_call>"
  },
  "StepFun3.5-Flash.jinja": {
    family: "qwen3-coder",
    one: "\n</think>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
    two: "\n</think>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call><tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"
  },
  "tencent-Hy3.jinja": {
    family: "hy3",
    one: "<tool_calls:opensource>\n<tool_call:opensource>get_weather<tool_sep:opensource>\n<arg_key:opensource>city</arg_key:opensource>\n<arg_value:opensource>Paris</arg_value:opensource>\n<arg_key:opensource>days</arg_key:opensource>\n<arg_value:opensource>2</arg_value:opensource>\n</tool_call:opensource>\n</tool_calls:opensource><｜hy_eos:opensource｜>",
    two: "<tool_calls:opensource>\n<tool_call:opensource>get_weather<tool_sep:opensource>\n<arg_key:opensource>city</arg_key:opensource>\n<arg_value:opensource>Paris</arg_value:opensource>\n<arg_key:opensource>days</arg_key:opensource>\n<arg_value:opensource>2</arg_value:opensource>\n</tool_call:opensource>\n<tool_call:opensource>get_time<tool_sep:opensource>\n<arg_key:opensource>zone</arg_key:opensource>\n<arg_value:opensource>UTC</arg_value:opensource>\n</tool_call:opensource>\n</tool_calls:opensource><｜hy_eos:opensource｜>"
  },
  "unsloth-Apriel-1.5.jinja": {
    family: "apriel-1.5",
    one: "\n<tool_calls>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]</tool_calls>",
    two: "\n<tool_calls>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]</tool_calls>"
  },
  "unsloth-mistral-Devstral-Small-2507.jinja": {
    family: "ministral-3",
    one: "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 2}",
    two: "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": 2}[TOOL_CALLS]get_time[ARGS]{\"zone\": \"UTC\"}"
  },
  "upstage-Solar-Open-100B.jinja": {
    family: "solar-open",
    one: "<|tool_calls|><|tool_call:begin|>A1b2C3d4E<|tool_call:name|>get_weather<|tool_call:args|>{\"city\": \"Paris\", \"days\": 2}<|tool_call:end|>",
    two: "<|tool_calls|><|tool_call:begin|>A1b2C3d4E<|tool_call:name|>get_weather<|tool_call:args|>{\"city\": \"Paris\", \"days\": 2}<|tool_call:end|><|tool_call:begin|>Z9y8X7w6V<|tool_call:name|>get_time<|tool_call:args|>{\"zone\": \"UTC\"}<|tool_call:end|>"
  },
}
