// One generation's output as it grows: tokens drawn from the target's logits, their text streamed
// (stop strings held back), the stats, and why it ended. Every decoding mode emits through it.
#pragma once

#include "clock.h"
#include "engine.h"
#include "sampler.h"
#include "text.h"

struct sx_generation {
    const sx_request *   req = nullptr;
    sx_result            result;
    sx_text_stream       stream;
    sx_on_delta          on_delta;
    sx_sampler           sampler;
    sx_clock::time_point t0;
    bool                 ended = false;

    // Draws the target's token from a row of logits and emits it.
    llama_token draw(const llama_vocab * vocab, const float * logits);
    // Appends a token and streams its text. Returns it, or LLAMA_TOKEN_NULL when the generation
    // has ended (end of text, stop string, max tokens).
    llama_token emit(const llama_vocab * vocab, llama_token t);
    // Emits the request's forced tokens; returns the last, or LLAMA_TOKEN_NULL as emit does.
    llama_token emit_forced(const llama_vocab * vocab);
    // Ends the generation; returns LLAMA_TOKEN_NULL.
    llama_token end(sx_stop_reason reason);
    // Streams what the stop-string check held back and fills the result's text.
    void        finish();
};

void sx_generation_init(sx_generation & gen, const sx_request & req, const sx_on_delta & on_delta);

// Prefills the target with the whole prompt (and the forced tokens but the last); that pass yields
// the first token (or the forced ones), so the first ghost text never waits for the draft and a
// round without a draft costs what autoregressive decoding does. Returns the token to decode next.
llama_token sx_generation_prefill(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen);

// The n most likely tokens in a row of logits but `drawn` (end-of-generation tokens left out: an
// empty suggestion is no alternative), best first, each with `tokens` = { token }.
std::vector<sx_alternative> sx_alternatives_at(const llama_vocab * vocab,
                                               const float *       logits,
                                               llama_token         drawn,
                                               int32_t             n);

// Cuts an alternative's tokens where a generation emitting them would end (stop string, max
// tokens), fills its text as that generation would show it, and marks it complete when it ends
// there or `then_eog` (the target ends the text right after them).
void sx_alternative_settle(const llama_vocab * vocab, const sx_request & req, sx_alternative & a, bool then_eog);
