#include "reference.h"

#include "errors.h"
#include "model.h"
#include "sampler.h"
#include "side.h"

#include <algorithm>

static llama_context * reference_context(llama_model * model, int32_t n_tokens, int32_t threads) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = (uint32_t) n_tokens + 8;
    cp.n_batch              = (uint32_t) std::max(n_tokens, 1);
    cp.n_ubatch             = (uint32_t) std::max(std::min(n_tokens, 512), 1);
    cp.n_seq_max            = 1;
    cp.n_threads            = threads;
    cp.n_threads_batch      = threads;
    cp.no_perf              = true;
    cp.flash_attn_type      = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // as the engine's contexts
    cp.type_k               = GGML_TYPE_F32;
    cp.type_v               = GGML_TYPE_F32;
    llama_context * ctx     = llama_init_from_model(model, cp);
    if (!ctx) {
        throw sx_error(SX_ERR_MODEL_UNSUPPORTED, std::string(__func__) + ": cannot create a context");
    }
    return ctx;
}

std::vector<float> sx_eval_logits(const std::string &              model_path,
                                  const std::vector<llama_token> & tokens,
                                  int32_t                          threads) {
    llama_model *   model   = sx_model_load(model_path, 0, false);
    const int32_t   n       = (int32_t) tokens.size();
    const int32_t   n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_context * ctx     = reference_context(model, n, threads);
    sx_batch        b(n, 1);
    for (int32_t i = 0; i < n; ++i) {
        b.add(tokens[i], i, 0, true);
    }
    const int          rc = llama_decode(ctx, b.batch);
    std::vector<float> out;
    if (rc == 0) {
        out.resize((size_t) n * n_vocab);
        for (int32_t i = 0; i < n; ++i) {
            const float * l = llama_get_logits_ith(ctx, i);
            std::copy(l, l + n_vocab, out.begin() + (size_t) i * n_vocab);
        }
    }
    llama_free(ctx);
    sx_model_free(model);
    if (rc != 0) {
        throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": llama_decode failed");
    }
    return out;
}

std::vector<llama_token> sx_reference_greedy(const std::string & model_path,
                                             const sx_prompt &   prompt,
                                             int32_t             n_tokens,
                                             int32_t             threads) {
    llama_model *            model   = sx_model_load(model_path, 0, false);
    const llama_vocab *      vocab   = llama_model_get_vocab(model);
    std::vector<llama_token> tokens  = sx_prompt_tokens(vocab, prompt);
    const int32_t            n_vocab = llama_vocab_n_tokens(vocab);
    llama_context *          ctx     = reference_context(model, (int32_t) tokens.size() + n_tokens, threads);

    std::vector<llama_token> out;
    bool                     ok = true;
    for (size_t i = 0; ok && i < tokens.size(); ++i) {
        ok = llama_decode(ctx, llama_batch_get_one(&tokens[i], 1)) == 0;
    }
    while (ok && (int32_t) out.size() < n_tokens) {
        llama_token t = sx_argmax(llama_get_logits_ith(ctx, -1), n_vocab);
        if (llama_vocab_is_eog(vocab, t)) {
            break;
        }
        out.push_back(t);
        ok = llama_decode(ctx, llama_batch_get_one(&t, 1)) == 0;
    }
    llama_free(ctx);
    sx_model_free(model);
    if (!ok) {
        throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": llama_decode failed");
    }
    return out;
}

std::vector<float> sx_testing_next_logits(sx_engine * e, const std::vector<llama_token> & tokens) {
    if (tokens.empty() || (int32_t) tokens.size() >= (int32_t) llama_n_ctx(e->target.ctx)) {
        throw sx_error(SX_ERR_INVALID_PARAMS, std::string(__func__) + ": need 1 to n_ctx - 1 tokens");
    }
    sx_side_sync_prompt(e->target, tokens);
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(e->target.model));
    const float * l       = llama_get_logits_ith(e->target.ctx, -1);
    return std::vector<float>(l, l + n_vocab);
}
