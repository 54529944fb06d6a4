#include "decode.h"

void sx_decode_autoregressive(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen) {
    sx_side &           target = e->target;
    const llama_vocab * vocab  = llama_model_get_vocab(target.model);
    const int32_t       n_ctx  = (int32_t) llama_n_ctx(target.ctx);

    llama_token t = sx_generation_prefill(e, prompt, gen);
    while (t != LLAMA_TOKEN_NULL) {
        sx_engine_yield(e);  // the target's history is put back as it was; t is decoded next
        if (sx_cancel_requested(e->signals)) {
            gen.end(SX_STOP_CANCELLED);
            return;
        }
        if ((int32_t) target.cached.size() >= n_ctx) {
            gen.end(SX_STOP_CONTEXT);
            return;
        }
        const sx_clock::time_point t1 = sx_clock::now();
        sx_side_decode(target, &t, 1);
        gen.result.stats.target_ms += ms_since(t1);
        gen.result.stats.target_passes++;
        t = gen.draw(vocab, llama_get_logits_ith(target.ctx, -1));
    }
}
