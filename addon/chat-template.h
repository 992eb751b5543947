// Chat templates and tool calls through llama.cpp's common/chat: apply a template with tools to OpenAI-style
// messages (-> prompt, grammar, lazy triggers, preserved tokens, stops, parser), parse generated text back into
// content, reasoning and tool calls, and turn a JSON Schema into a GBNF grammar.
#pragma once

#include <napi.h>

namespace effect_llama {

// jsonSchemaToGrammar(schemaJson: string): string. JS thread; cheap for ordinary schemas.
Napi::Value JsonSchemaToGrammar(const Napi::CallbackInfo & info);

} // namespace effect_llama
