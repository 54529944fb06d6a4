// The engine: a draft and a target model, each with its own llama.cpp context, and the decoding
// loops over them (autoregressive, and speculative with a SpecExec / SpecInfer / chain tree).
// Plain C++: no Node here. One generation at a time; call from one thread.
#pragma once

#include "budget.h"
#include "errors.h"
#include "llama.h"
#include "model.h"
#include "sampler.h"
#include "side.h"
#include "text.h"
#include "tree_grow.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct sx_engine_params {
    std::string draft_path;  // may be empty: autoregressive only
    std::string target_path;
    int32_t     threads             = 0;     // 0: the hardware threads, at most 16
    int32_t     n_ctx               = 4096;  // tokens of context per model
    int32_t     n_gpu_layers_draft  = -1;    // -1: all (only matters for GPU builds)
    int32_t     n_gpu_layers_target = -1;
    int32_t     vram_budget_mib     = 0;     // > 0: choose both GPU layer counts to fit this budget
    int32_t     max_budget          = 1024;  // largest tree the contexts are sized for
    std::string calibration_cache;           // file for the budget calibration ("" = none)
};

enum sx_mode {
    SX_MODE_AUTOREGRESSIVE,
    SX_MODE_SPECEXEC,
    SX_MODE_SPECINFER,
    SX_MODE_CHAIN,
};

struct sx_request {
    sx_prompt                prompt;
    int32_t                  max_tokens = 128;
    sx_sampling_params       sampling;
    std::vector<std::string> stop;
    sx_mode                  mode        = SX_MODE_AUTOREGRESSIVE;
    int32_t                  budget      = 0;  // draft tree size; 0: automatic
    int32_t                  max_depth   = 32;
    int32_t                  draft_max   = 16;     // chain: longest draft
    float                    draft_p_min = 0.75f;  // chain: stop drafting below this probability
    // Alternatives: the generation starts with these tokens instead of the target's draws, so the
    // rest is the target's own continuation after them; and the result lists the target's
    // n_alternatives most likely first tokens after the one drawn (with forced tokens: none).
    std::vector<llama_token> forced_tokens;
    int32_t                  n_alternatives = 0;
#ifdef SX_TESTING
    // The testing addon only: accept every node's best child without asking the target, a
    // deliberately broken acceptance rule that the sampling test must catch.
    bool unsafe_accept_draft = false;
#endif
};

struct sx_stats {
    int32_t              n_prompt_tokens      = 0;
    int32_t              n_tokens             = 0;  // generated tokens
    int32_t              n_prompt_pass_tokens = 0;  // of them, those the prompt's pass yielded (and forced ones)
    int32_t              target_passes  = 0;  // target forward passes that yielded tokens (the prompt's counts as one)
    int32_t              draft_passes   = 0;
    int32_t              budget         = 0;         // draft tree size used last (0 for autoregressive)
    double               prompt_ms      = 0;         // time to process the prompt
    double               first_token_ms = 0;         // request start to the first generated token
    double               elapsed_ms     = 0;         // request start to the end
    double               draft_ms       = 0;         // time in draft passes and tree building
    double               target_ms      = 0;         // time in target passes (prompt excluded)
    std::vector<int32_t> tokens_per_pass_histogram;  // [k] = passes that yielded k tokens
    std::vector<int32_t> tree_sizes;                 // nodes per verified tree (root excluded)
    std::vector<int32_t> tree_depths;
    std::vector<int32_t> tree_leaves;
    std::vector<int32_t> budgets;  // budget chosen per pass
};

// Why a generation ended. The names are host/protocol.ts's STOP_REASONS (a unit test checks).
enum sx_stop_reason {
    SX_STOP_EOS,        // the model's end of text
    SX_STOP_LENGTH,     // max_tokens reached
    SX_STOP_STRING,     // a stop string
    SX_STOP_CANCELLED,  // engine->signals.cancel was set
    SX_STOP_CONTEXT,    // the context is full
};

const char * sx_stop_reason_name(sx_stop_reason reason);

// One of the target's likely first tokens, read off the prompt's pass, and as much of the target's
// greedy continuation after it as that pass computed: a speculative generation's first pass
// verifies a draft tree, and every tree node holds the target's next-token distribution.
struct sx_alternative {
    llama_token              token;
    std::string              piece;
    float                    p;                 // its probability (softmax of the logits, temperature 1)
    std::vector<llama_token> tokens;            // token, then the continuation known so far (greedy only)
    std::string              text;              // what a generation emitting `tokens` shows (stop strings applied)
    bool                     complete = false;  // that generation would end within them: no pass left to run
};

struct sx_result {
    std::vector<sx_alternative> alternatives;  // the next most likely first tokens, best first
    std::string                 text;
    std::vector<llama_token>    tokens;
    sx_stop_reason              stop_reason = SX_STOP_LENGTH;
    sx_stats                    stats;
    sx_prompt_trim              trim;  // prompt tokens dropped to fit the context
};

// Called with each new piece of visible text and the number of tokens generated so far.
using sx_on_delta = std::function<void(const std::string & delta, int32_t n_tokens)>;

struct sx_engine {
    sx_engine_params      params;
    sx_side               draft;
    sx_side               target;
    sx_budget             budget;
    ggml_threadpool_t     threadpool = nullptr;  // the CPU threads of both models' passes
    sx_pass_signals       signals;               // cancel the running generation; its heartbeat
    // Called by a running generation between two of its steps (never inside a pass; not by a
    // nested one): the addon runs another client's waiting generation there through
    // sx_engine_generate_nested, so a long answer holds the engine one step at a time. Returns
    // whether one ran.
    std::function<bool()> between_steps;
};

void sx_engine_free(sx_engine * engine);

// Owns an engine, as llama-cpp.h's llama_model_ptr owns a model: freed on every path, throws included.
struct sx_engine_deleter {
    void operator()(sx_engine * engine) const { sx_engine_free(engine); }
};

typedef std::unique_ptr<sx_engine, sx_engine_deleter> sx_engine_ptr;

// Loads both models (validating files and vocabularies) and creates their contexts. Throws sx_error.
sx_engine_ptr sx_engine_init(const sx_engine_params & params);

// Times the draft and target forwards against batch size for the automatic budget (cached in
// params.calibration_cache when set).
void sx_engine_calibrate(sx_engine * engine);

// One target pass of each batch size after what the target's cache holds now, timed as the
// calibration times them (median of three; the cache is left as it was): lets a benchmark
// re-measure the cost curve beside the generations it predicts, on a machine whose speed drifts.
std::vector<double> sx_engine_time_target_passes(sx_engine * engine, const std::vector<int32_t> & batches);

// Longest prompt (tokens) a request of max_tokens is fitted to: room to generate (at most a
// quarter of the context: an editor's prompt is worth more than a completion nobody asked to be
// that long), plus the two cells a speculative round needs beyond its accepted tokens.
int32_t sx_engine_prompt_room(const sx_engine * engine, int32_t max_tokens);

// What a warm-up did: the prompt (fitted as a generation of max_tokens would fit it) and the
// tokens of it each model already held, and whether a request preempted it.
struct sx_warm_result {
    int32_t n_prompt_tokens = 0;
    int32_t n_reused_tokens = 0;  // the target's cached prefix before the warm-up
    int32_t n_decoded       = 0;  // target tokens decoded now
    bool    cancelled       = false;
    double  elapsed_ms      = 0;
};

// Reads a prompt into both models' caches without generating, so that a generation of it (or of
// a prompt that shares its start) begins with one pass over its last token. Stop it with
// engine->signals.cancel: what was read by then stays. Throws sx_error.
sx_warm_result sx_engine_warm(sx_engine * engine, const sx_prompt & prompt, int32_t max_tokens);

// Runs one request to completion, cancellation or error (throws sx_error). Set engine->signals.cancel from
// any thread to stop the generation early; it is cleared when the generation ends.
sx_result sx_engine_generate(sx_engine * engine, const sx_request & request, const sx_on_delta & on_delta);

// Runs a request inside the generation that called between_steps: both models' histories are kept
// aside byte for byte and put back afterwards, so the interrupted generation resumes on exactly
// the state it had. Stop it early with engine->signals.cancel_nested. The request's own failure
// comes back in `failure` (code 0: none); it throws only when the interrupted generation's state
// cannot be put back, which that generation must fail on too.
sx_result sx_engine_generate_nested(sx_engine *         engine,
                                    const sx_request &  request,
                                    const sx_on_delta & on_delta,
                                    sx_error &          failure);

// For the decoding loops, between two steps: lets a waiting generation run (see between_steps).
// Returns whether one ran (the models' last logits are then its).
bool sx_engine_yield(sx_engine * engine);

int32_t sx_default_threads(void);
