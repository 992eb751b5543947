#include "grammar-checks.h"

#include "llama-grammar.h" // llama.cpp internal API (src/), linked statically
#include "log-bridge.h"

namespace effect_llama {

std::string grammar_problem(const llama_vocab * vocab, const std::string & gbnf) {
    if (gbnf.find('\0') != std::string::npos) {
        return "the grammar contains a NUL byte";
    }
    log_clear_last_error();
    llama_grammar * grammar = llama_grammar_init_impl(vocab, gbnf.c_str(), "root", false, nullptr, 0, nullptr, 0);
    if (grammar != nullptr) {
        llama_grammar_free_impl(grammar);
        return "";
    }
    std::string why = log_last_error();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
        why.pop_back();
    }
    return why.empty() ? "llama.cpp rejects the grammar" : why;
}

} // namespace effect_llama
