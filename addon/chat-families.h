// The tool-call family of a chat template, found from markers in its source (the same markers llama.cpp's
// common/chat dispatches on). common/chat reports most formats as "peg-native"; the family name tells a user which
// format it is, and whether one turn may hold several calls. Any thread; pure.
#pragma once

#include "chat.h"

#include <string>

namespace effect_llama {

struct chat_family {
    std::string name;        // e.g. "hermes", "llama-3.x", "gpt-oss"; "generic" when no rule matches
    bool parallel = true;    // several calls in one turn: generated, and rendered back in later turns
    bool tools = true;       // the template has a tool format at all
};

chat_family detect_chat_family(const std::string & template_source);

// common_chat_templates_apply with what a family needs around it (libuv worker, under the render bounds):
// - a family that takes its tools through another variable gets them there (firefunction-v2: `functions`);
// - tools the template does not render at all are described in the system message, so the model sees them;
// - a family without several calls per turn gets a one-call grammar and a parser that still reads several
//   (nothing generated is dropped).
common_chat_params apply_for_family(const common_chat_templates * tmpls, common_chat_templates_inputs & inputs,
                                    chat_family & family);

} // namespace effect_llama
