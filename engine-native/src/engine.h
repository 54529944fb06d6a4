// The engine: a draft and a target model, each with its own llama.cpp context, and the decoding
// loops over them. Plain C++: no Node here. One generation at a time; call from one thread.
#pragma once

#include "llama.h"
#include "model.h"
#include "sampler.h"
#include "text.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

struct sx_engine_params {
    std::string draft_path;            // may be empty: autoregressive only
    std::string target_path;
    int32_t     threads        = 0;    // 0: all hardware threads
    int32_t     n_ctx          = 4096; // tokens of context per model
    int32_t     n_gpu_layers_draft  = -1; // -1: all (only matters for GPU builds)
    int32_t     n_gpu_layers_target = -1;
};

enum sx_mode {
    SX_MODE_AUTOREGRESSIVE,
};

struct sx_request {
    sx_prompt                prompt;
    int32_t                  max_tokens = 128;
    sx_sampling_params       sampling;
    std::vector<std::string> stop;
    sx_mode                  mode = SX_MODE_AUTOREGRESSIVE;
};

struct sx_stats {
    int32_t n_prompt_tokens = 0;
    int32_t n_tokens        = 0;  // generated tokens
    int32_t target_passes   = 0;  // target forward passes that yielded tokens (the prompt's counts as one)
    int32_t draft_passes    = 0;
    int32_t budget          = 0;  // draft tree size used (0 for autoregressive)
    double  prompt_ms       = 0;  // time to process the prompt
    double  first_token_ms  = 0;  // request start to the first generated token
    double  elapsed_ms      = 0;  // request start to the end
};

struct sx_result {
    std::string              text;
    std::vector<llama_token> tokens;
    std::string              stop_reason; // "eos" | "length" | "stop" | "cancelled" | "context"
    sx_stats                 stats;
};

// Called with each new piece of visible text and the number of tokens generated so far.
using sx_on_delta = std::function<void(const std::string & delta, int32_t n_tokens)>;

struct sx_side {
    std::string     path;
    llama_model *   model = nullptr;
    llama_context * ctx   = nullptr;
    std::vector<llama_token> cached; // tokens whose KV is in seq 0 of ctx, in order
};

struct sx_engine {
    sx_engine_params  params;
    sx_side           draft;
    sx_side           target;
    std::atomic<bool> cancel{false};
};

// Loads both models (validating files and vocabularies) and creates their contexts. Throws sx_error.
sx_engine * sx_engine_init(const sx_engine_params & params);
void        sx_engine_free(sx_engine * engine);

// Runs one request to completion, cancellation or error (throws sx_error). Resets engine->cancel
// only when it finishes; set it from any thread to stop the generation early.
sx_result sx_engine_generate(sx_engine * engine, const sx_request & request, const sx_on_delta & on_delta);

int32_t sx_default_threads(void);
