// Drawing the target's next token from its logits. Our own (not llama_sampler) so that every
// decoding mode draws exactly the same token from the same logits and random state: that is what
// makes speculative output identical to plain decoding for a fixed seed.
#pragma once

#include "llama.h"

#include <cstdint>
#include <random>
#include <vector>

struct sx_sampling_params {
    float    temperature = 0.0f;  // <= 0: greedy (argmax)
    int32_t  top_k       = 0;     // <= 0: all tokens
    float    top_p       = 1.0f;  // 1: off
    uint64_t seed        = 0;
};

struct sx_sampler {
    sx_sampling_params                         params;
    std::mt19937_64                            rng;
    std::vector<std::pair<float, llama_token>> scratch;
};

void        sx_sampler_init(sx_sampler & s, const sx_sampling_params & params);
llama_token sx_sampler_sample(sx_sampler & s, const float * logits, int32_t n_vocab);
llama_token sx_argmax(const float * logits, int32_t n_vocab);
