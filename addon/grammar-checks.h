// Checks a GBNF grammar the way the sampler will build it (llama.cpp's grammar parser, rule references, left
// recursion), so a grammar that can never work fails where it is made (GRAMMAR_ERROR) instead of at generation.
// Any thread: the parser touches no shared state.
#pragma once

#include "llama.h"

#include <string>

namespace effect_llama {

// "" when llama.cpp accepts the grammar, else its reason. `vocab` may be null for grammars without token literals.
std::string grammar_problem(const llama_vocab * vocab, const std::string & gbnf);

} // namespace effect_llama
