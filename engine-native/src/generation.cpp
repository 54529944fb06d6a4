#include "generation.h"

#include <algorithm>
#include <cmath>

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

std::vector<sx_alternative> sx_alternatives_at(const llama_vocab * vocab,
                                               const float *       logits,
                                               llama_token         drawn,
                                               int32_t             n) {
    const int32_t                              n_vocab = llama_vocab_n_tokens(vocab);
    std::vector<std::pair<float, llama_token>> order;
    float                                      max_logit = logits[0];
    for (llama_token t = 0; t < n_vocab; ++t) {
        max_logit = std::max(max_logit, logits[t]);
        if (t != drawn && !llama_vocab_is_eog(vocab, t)) {
            order.push_back({ logits[t], t });
        }
    }
    double sum = 0.0;
    for (llama_token t = 0; t < n_vocab; ++t) {
        sum += std::exp((double) logits[t] - max_logit);
    }
    const size_t k = std::min<size_t>(n, order.size());
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [](const auto & a, const auto & b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<sx_alternative> out;
    for (size_t i = 0; i < k; ++i) {
        sx_alternative a;
        a.token = order[i].second;
        a.piece = sx_token_piece(vocab, a.token);
        a.p     = (float) (std::exp((double) order[i].first - max_logit) / sum);
        a.tokens.push_back(a.token);
        out.push_back(a);
    }
    return out;
}

void sx_alternative_settle(const llama_vocab * vocab, const sx_request & req, sx_alternative & a, bool then_eog) {
    sx_text_stream stream;
    stream.stops = req.stop;
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        stream.push(sx_token_piece(vocab, a.tokens[i]));
        if (stream.stopped || (int32_t) i + 1 >= req.max_tokens) {
            a.tokens.resize(i + 1);
            a.complete = true;
            break;
        }
    }
    a.complete = a.complete || then_eog;
    a.text     = stream.text;
}

llama_token sx_generation::emit_forced(const llama_vocab * vocab) {
    llama_token t = LLAMA_TOKEN_NULL;
    for (llama_token forced : req->forced_tokens) {
        t = emit(vocab, forced);
        if (t == LLAMA_TOKEN_NULL) {
            break;
        }
    }
    return t;
}

llama_token sx_generation_prefill(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen) {
    const sx_request &       req     = *gen.req;
    std::vector<llama_token> history = prompt;  // the forced tokens but the last are history too
    if (!req.forced_tokens.empty()) {
        history.insert(history.end(), req.forced_tokens.begin(), req.forced_tokens.end() - 1);
    }
    sx_side_sync_prompt(e->target, history);
    gen.result.stats.prompt_ms     = ms_since(gen.t0);
    gen.result.stats.target_passes = 1;
    const llama_vocab * vocab      = llama_model_get_vocab(e->target.model);
    if (!req.forced_tokens.empty()) {
        const llama_token last                = gen.emit_forced(vocab);
        gen.result.stats.n_prompt_pass_tokens = (int32_t) gen.result.tokens.size();
        return last;
    }
    const float *     logits = llama_get_logits_ith(e->target.ctx, -1);
    const llama_token first  = sx_sampler_sample(gen.sampler, logits, llama_vocab_n_tokens(vocab));
    if (req.n_alternatives > 0) {
        gen.result.alternatives = sx_alternatives_at(vocab, logits, first, req.n_alternatives);
        for (sx_alternative & a : gen.result.alternatives) {
            sx_alternative_settle(vocab, req, a, false);
        }
    }
    const llama_token next                = gen.emit(vocab, first);
    gen.result.stats.n_prompt_pass_tokens = (int32_t) gen.result.tokens.size();
    return next;
}
