// Oracles for tests and model verification: the plainest possible use of llama.cpp, sharing no
// decoding code with the engine, so that the engine's output can be checked against them.
#pragma once

#include "engine.h"
#include "llama.h"
#include "text.h"

#include <string>
#include <vector>

// Logits of every position of one causal forward pass over tokens (n_tokens x n_vocab, row-major).
std::vector<float> sx_eval_logits(const std::string &              model_path,
                                  const std::vector<llama_token> & tokens,
                                  int32_t                          threads);

// Greedy continuation of the prompt, feeding every token (prompt included) one llama_decode at a
// time in a fresh context. Stops at end-of-generation or after n_tokens.
std::vector<llama_token> sx_reference_greedy(const std::string & model_path,
                                             const sx_prompt &   prompt,
                                             int32_t             n_tokens,
                                             int32_t             threads);

// The target's next-token logits after `tokens`, computed from the engine's own KV cache (reusing
// whatever prefix it holds): lets tests compare the cache left by many rounds with a fresh pass.
std::vector<float> sx_testing_next_logits(sx_engine * engine, const std::vector<llama_token> & tokens);
