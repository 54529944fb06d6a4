// The decoding loops. Both emit every token through the generation and end it on cancel, a full
// context, or what the generation itself ends on (end of text, stop string, max tokens).
#pragma once

#include "engine.h"
#include "generation.h"

// The target alone, one token per pass.
void sx_decode_autoregressive(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen);

// Rounds of: choose a budget, grow a draft tree, verify it in one target pass, accept what the
// target would have drawn itself, learn from the round (specexec, specinfer and chain trees).
void sx_decode_speculative(sx_engine *                      e,
                           const sx_request &               req,
                           const std::vector<llama_token> & prompt,
                           sx_generation &                  gen);
