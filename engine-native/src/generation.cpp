#include "generation.h"

void sx_generation_init(sx_generation & gen, const sx_request & req, const sx_on_delta & on_delta) {
    gen.t0           = sx_clock::now();
    gen.req          = &req;
    gen.on_delta     = on_delta;
    gen.stream.stops = req.stop;
    sx_sampler_init(gen.sampler, req.sampling);
}

llama_token sx_generation::draw(const llama_vocab * vocab, const float * logits) {
    return emit(vocab, sx_sampler_sample(sampler, logits, llama_vocab_n_tokens(vocab)));
}

llama_token sx_generation::emit(const llama_vocab * vocab, llama_token t) {
    if (result.tokens.empty()) {
        result.stats.first_token_ms = ms_since(t0);
    }
    if (llama_vocab_is_eog(vocab, t)) {
        return end(SX_STOP_EOS);
    }
    result.tokens.push_back(t);
    const std::string delta = stream.push(sx_token_piece(vocab, t));
    if (!delta.empty()) {
        on_delta(delta, (int32_t) result.tokens.size());
    }
    if (stream.stopped) {
        return end(SX_STOP_STRING);
    }
    if ((int32_t) result.tokens.size() >= req->max_tokens) {
        return end(SX_STOP_LENGTH);
    }
    return t;
}

llama_token sx_generation::end(sx_stop_reason reason) {
    result.stop_reason = reason;
    ended              = true;
    return LLAMA_TOKEN_NULL;
}

void sx_generation::finish() {
    const std::string rest = stream.flush();
    if (!rest.empty()) {
        on_delta(rest, (int32_t) result.tokens.size());
    }
    result.text           = stream.text;
    result.stats.n_tokens = (int32_t) result.tokens.size();
}

llama_token sx_generation_prefill(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen) {
    sx_side_sync_prompt(e->target, prompt);
    gen.result.stats.prompt_ms     = ms_since(gen.t0);
    gen.result.stats.target_passes = 1;
    return gen.draw(llama_model_get_vocab(e->target.model), llama_get_logits_ith(e->target.ctx, -1));
}
