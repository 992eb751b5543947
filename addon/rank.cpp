// Reranking: Context.rank({ queries, documents }) scores document i against query i on a rank-pooling model
// (pooling_type rank: a classifier head). Each pair is formatted as llama-server does: the model's "rerank" chat
// template with {query} and {document} filled in, else [BOS] query [EOS] [SEP] document [EOS]; the pairs then run
// as one embed job (embed.cpp), packed several to a batch.
#include "context.h"

#include "common.h"
#include "convert.h"
#include "errors.h"
#include "scheduler-job.h"

namespace effect_llama {

namespace {

void replace_all(std::string & s, const std::string & what, const std::string & with) {
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) {
        s.replace(at, what.size(), with);
    }
}

} // namespace

// Scheduler thread (run_embed).
std::vector<llama_token> rank_tokens(const llama_model * model, const std::string & query, const std::string & document) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    if (const char * tmpl = llama_model_chat_template(model, "rerank")) {
        std::string prompt = tmpl;
        // The document first: a query holding "{document}" must not receive it.
        replace_all(prompt, "{document}", "\x01" "DOC" "\x01");
        replace_all(prompt, "{query}", query);
        replace_all(prompt, "\x01" "DOC" "\x01", document);
        return common_tokenize(vocab, prompt, false, true);
    }
    std::vector<llama_token> out;
    llama_token eos = llama_vocab_eos(vocab);
    if (eos == LLAMA_TOKEN_NULL) {
        eos = llama_vocab_sep(vocab);
    }
    if (llama_vocab_get_add_bos(vocab)) {
        out.push_back(llama_vocab_bos(vocab));
    }
    std::vector<llama_token> q = common_tokenize(vocab, query, false, false);
    out.insert(out.end(), q.begin(), q.end());
    if (llama_vocab_get_add_eos(vocab)) {
        out.push_back(eos);
    }
    if (llama_vocab_get_add_sep(vocab)) {
        out.push_back(llama_vocab_sep(vocab));
    }
    std::vector<llama_token> d = common_tokenize(vocab, document, false, false);
    out.insert(out.end(), d.begin(), d.end());
    if (llama_vocab_get_add_eos(vocab)) {
        out.push_back(eos);
    }
    return out;
}

Napi::Value Context::Rank(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<scheduler> s = running_scheduler(env, "rank");
    if (!options.embeddings || llama_pooling_type(s->context()) != LLAMA_POOLING_TYPE_RANK) {
        throw coded_error(env, code::NOT_RANK_CONTEXT,
                          "Context.rank: create the context with embeddings: true on a model with a rank head (pooling rank)");
    }
    Napi::Object o = require_object(info, 0, "rank: request");
    embed_request r;
    r.texts = get_strings(o, "documents");
    r.rank_queries = get_strings(o, "queries");
    if (r.rank_queries.size() != r.texts.size()) {
        throw coded_type_error(env, code::INVALID_ARGUMENT, "rank: queries and documents must be arrays of the same length");
    }
    r.normalize = false;
    job_started(env);
    return Napi::Number::New(env, s->submit(std::move(r)));
}

} // namespace effect_llama
