// The engine's lifecycle and its one entry point for requests: start-up (models, contexts, thread
// pool, calibration), checking a request and dispatching it to a decoding loop (decode.h).
#include "engine.h"

#include "calibrate.h"
#include "clock.h"
#include "cpu_backend.h"
#include "decode.h"
#include "errors.h"
#include "model.h"
#include "offload.h"

#include <algorithm>
#include <thread>

const char * sx_stop_reason_name(sx_stop_reason reason) {
    switch (reason) {
        case SX_STOP_EOS:
            return "eos";
        case SX_STOP_LENGTH:
            return "length";
        case SX_STOP_STRING:
            return "stop";
        case SX_STOP_CANCELLED:
            return "cancelled";
        case SX_STOP_CONTEXT:
            return "context";
    }
    return "length";
}

int32_t sx_default_threads(void) {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : (int32_t) std::min(n, 16u);
}

// a prompt is decoded in batches of this many tokens
static const int32_t PROMPT_BATCH = 512;

sx_engine_ptr sx_engine_init(const sx_engine_params & params) {
    sx_engine_ptr e(new sx_engine());
    e->params = params;
    if (e->params.threads <= 0) {
        e->params.threads = sx_default_threads();
    }
    e->params.max_budget       = std::max(1, std::min(e->params.max_budget, 4 * SPECEXEC_MAX_SEQ));
    const bool     speculative = !params.draft_path.empty();
    // the engine owns everything from here: a throw frees what was loaded so far
    sx_side_params tp;
    tp.n_ctx     = e->params.n_ctx;
    tp.n_batch   = speculative ? std::max(PROMPT_BATCH, e->params.max_budget + 1) : PROMPT_BATCH;
    tp.n_seq_max = speculative ? SPECEXEC_MAX_SEQ : 1;
    tp.threads   = e->params.threads;
    sx_backend_init();
    e->threadpool                  = sx_cpu_threadpool_new(tp.threads);
    tp.threadpool                  = e->threadpool;
    const int32_t      draft_batch = std::max(PROMPT_BATCH, SX_MAX_BEAMS);
    sx_offload_request offload;
    offload.draft_path         = params.draft_path;
    offload.target_path        = params.target_path;
    offload.n_ctx              = params.n_ctx;
    offload.draft_ubatch       = draft_batch;
    offload.target_ubatch      = tp.n_batch;
    offload.layers.draft       = params.n_gpu_layers_draft;
    offload.layers.target      = params.n_gpu_layers_target;
    offload.vram_budget_mib    = params.vram_budget_mib;
    const sx_gpu_layers layers = sx_offload_resolve(offload);
    tp.n_gpu_layers            = layers.target;
    sx_side_init(e->target, params.target_path, tp, &e->signals);
    if (speculative) {
        sx_side_params dp = tp;
        dp.n_batch        = draft_batch;
        dp.n_gpu_layers   = layers.draft;
        sx_side_init(e->draft, params.draft_path, dp, &e->signals);
        sx_check_vocab_compatible(e->draft.model, params.draft_path, e->target.model, params.target_path);
    }
    if (speculative) {
        e->params.max_budget = std::min(e->params.max_budget, e->target.n_batch - 1);
    }
    sx_budget_init(e->budget, e->params.max_budget);
    return e;
}

void sx_engine_free(sx_engine * engine) {
    if (!engine) {
        return;
    }
    sx_side_free(engine->draft);
    sx_side_free(engine->target);
    sx_cpu_threadpool_free(engine->threadpool);
    delete engine;
}

void sx_engine_calibrate(sx_engine * e) {
    if (!e->draft.model) {
        return;
    }
    e->budget.target = sx_calibrate(e->target, std::min(e->target.n_batch, e->params.max_budget + 1),
                                    e->params.calibration_cache, e->params.threads);
    e->budget.draft  = sx_calibrate(e->draft, std::min(e->draft.n_batch, SX_MAX_BEAMS), e->params.calibration_cache,
                                    e->params.threads);
}

std::vector<double> sx_engine_time_target_passes(sx_engine * e, const std::vector<int32_t> & batches) {
    const int32_t history = (int32_t) e->target.cached.size();
    const int32_t room    = std::min<int32_t>(e->target.n_batch, (int32_t) llama_n_ctx(e->target.ctx) - history);
    for (int32_t n : batches) {
        if (n < 1 || n > room) {
            throw sx_error(SX_ERR_INVALID_PARAMS,
                           std::string(__func__) + ": batch sizes must be 1 to " + std::to_string(room) +
                               " (the target's batch, and the context after its " + std::to_string(history) +
                               " cached tokens), got " + std::to_string(n));
        }
    }
    std::vector<double> ms;
    for (int32_t n : batches) {
        ms.push_back(sx_calibrate_time_pass(e->target, n));
    }
    return ms;
}

static void check_request(const sx_engine * e, const sx_request & req, size_t n_prompt) {
    if (req.max_tokens < 0) {
        throw sx_error(SX_ERR_INVALID_PARAMS, "maxTokens must be >= 0");
    }
    if (req.mode != SX_MODE_AUTOREGRESSIVE && !e->draft.model) {
        throw sx_error(SX_ERR_INVALID_PARAMS, "speculative modes need a draft model: initialize with draftModelPath");
    }
    if (n_prompt == 0) {
        throw sx_error(SX_ERR_INVALID_PARAMS, "the prompt is empty");
    }
    const llama_vocab * vocab = llama_model_get_vocab(e->target.model);
    for (llama_token t : req.forced_tokens) {
        if (t < 0 || t >= llama_vocab_n_tokens(vocab) || llama_vocab_is_eog(vocab, t)) {
            throw sx_error(SX_ERR_INVALID_PARAMS,
                           "forcedTokens: " + std::to_string(t) +
                               " is not a token of the target's vocabulary that can be in a text");
        }
    }
    const int32_t n_ctx    = (int32_t) llama_n_ctx(e->target.ctx);
    const size_t  n_forced = req.forced_tokens.size();
    if ((int32_t) (n_prompt + n_forced) + 1 > n_ctx) {
        throw sx_error(SX_ERR_CONTEXT_OVERFLOW, "the prompt has " + std::to_string(n_prompt) +
                                                    (n_forced ? " (and " + std::to_string(n_forced) + " forced)" : "") +
                                                    " tokens but the context holds " + std::to_string(n_ctx) +
                                                    "; shorten it or raise contextSize");
    }
}

int32_t sx_engine_prompt_room(const sx_engine * e, int32_t max_tokens) {
    const int32_t n_ctx = (int32_t) llama_n_ctx(e->target.ctx);
    return n_ctx - std::max(1, std::min(max_tokens, n_ctx / 4)) - 2;
}

static sx_result generate(sx_engine * e, const sx_request & req, const sx_on_delta & on_delta) {
    sx_generation gen;
    sx_generation_init(gen, req, on_delta);

    const std::vector<llama_token> prompt = sx_prompt_tokens_fit(
        llama_model_get_vocab(e->target.model), req.prompt, sx_engine_prompt_room(e, req.max_tokens), gen.result.trim);
    check_request(e, req, prompt.size());
    gen.result.stats.n_prompt_tokens = (int32_t) prompt.size();
    if (req.max_tokens > 0) {
        try {
            if (req.mode == SX_MODE_AUTOREGRESSIVE) {
                sx_decode_autoregressive(e, prompt, gen);
            } else {
                sx_decode_speculative(e, req, prompt, gen);
            }
        } catch (const sx_error &) {
            if (!sx_cancel_requested(e->signals)) {
                // a pass failed part-way: what the caches hold is unknown
                sx_side_reset(e->target);
                if (e->draft.model) {
                    sx_side_reset(e->draft);
                }
                throw;
            }
            // llama_decode was aborted by the cancel flag: the history stays for the next request
            // (the user typed on: it shares the prompt's start), the tree cells go
            sx_side_drop_uncommitted(e->target);
            if (e->draft.model) {
                sx_side_drop_uncommitted(e->draft);
            }
            gen.end(SX_STOP_CANCELLED);
        }
    }
    gen.finish();
    gen.result.stats.elapsed_ms = ms_since(gen.t0);
    return gen.result;
}

// Clears the cancel flag when a call ends, whichever way it ends.
struct cancel_reset {
    std::atomic<bool> & flag;

    ~cancel_reset() { flag.store(false); }
};

// Warm-up reads this many tokens per pass: a request that preempts it loses at most the pass it
// aborts (a long prompt in one pass of n_batch tokens would take the large target seconds).
static const size_t WARM_CHUNK_TOKENS = 128;

// Reads tokens into a side's history, up to the whole of `tokens` but the last (the generation
// decodes that one for its logits). Cancelled, the history keeps the passes that ended.
static void warm_side(sx_side & side, const std::vector<llama_token> & tokens, bool & cancelled) {
    size_t end = 0;  // the cached start of `tokens`
    while (end < side.cached.size() && end < tokens.size() - 1 && side.cached[end] == tokens[end]) {
        ++end;
    }
    try {
        while (end < tokens.size() - 1) {
            end = std::min(end + WARM_CHUNK_TOKENS, tokens.size() - 1);
            sx_side_sync_history(side, std::vector<llama_token>(tokens.begin(), tokens.begin() + end));
            if (sx_cancel_requested(*side.signals)) {
                cancelled = true;
                return;
            }
        }
    } catch (const sx_error &) {
        if (!sx_cancel_requested(*side.signals)) {
            sx_side_reset(side);
            throw;
        }
        sx_side_drop_uncommitted(side);
        cancelled = true;
    }
}

sx_warm_result sx_engine_warm(sx_engine * e, const sx_prompt & prompt, int32_t max_tokens) {
    const cancel_reset reset{ e->signals.cancel };

    const sx_clock::time_point t0 = sx_clock::now();
    sx_request                 req;
    req.prompt     = prompt;
    req.max_tokens = max_tokens;
    sx_prompt_trim                 trim;
    const std::vector<llama_token> tokens = sx_prompt_tokens_fit(llama_model_get_vocab(e->target.model), prompt,
                                                                 sx_engine_prompt_room(e, max_tokens), trim);
    check_request(e, req, tokens.size());
    sx_warm_result r;
    r.n_prompt_tokens = (int32_t) tokens.size();
    r.n_reused_tokens = (int32_t) std::min(e->target.cached.size(), tokens.size() - 1);
    for (size_t i = 0; i < (size_t) r.n_reused_tokens; ++i) {
        if (e->target.cached[i] != tokens[i]) {
            r.n_reused_tokens = (int32_t) i;
            break;
        }
    }
    warm_side(e->target, tokens, r.cancelled);
    r.n_decoded = (int32_t) std::min(e->target.cached.size(), tokens.size() - 1) - r.n_reused_tokens;
    if (e->draft.model && !r.cancelled && !sx_cancel_requested(e->signals)) {
        warm_side(e->draft, tokens, r.cancelled);
    }
    r.cancelled  = r.cancelled || sx_cancel_requested(e->signals);
    r.elapsed_ms = ms_since(t0);
    return r;
}

sx_result sx_engine_generate(sx_engine * e, const sx_request & req, const sx_on_delta & on_delta) {
    const cancel_reset reset{ e->signals.cancel };

    return generate(e, req, on_delta);
}

sx_result sx_engine_generate_nested(sx_engine *         e,
                                    const sx_request &  req,
                                    const sx_on_delta & on_delta,
                                    sx_error &          failure) {
    sx_side_snapshot target, draft;
    sx_side_snapshot_take(e->target, target);
    if (e->draft.model) {
        sx_side_snapshot_take(e->draft, draft);
    }
    e->signals.nested.store(true);
    sx_result result;
    try {
        result = generate(e, req, on_delta);
    } catch (const sx_error & x) {
        failure = x;
    } catch (const std::exception & x) {
        failure = sx_error(SX_ERR_DECODE_FAILED, x.what());
    }
    e->signals.nested.store(false);
    e->signals.cancel_nested.store(false);
    sx_side_snapshot_restore(e->target, target);
    if (e->draft.model) {
        sx_side_snapshot_restore(e->draft, draft);
    }
    return result;
}

bool sx_engine_yield(sx_engine * e) {
    return !e->signals.nested.load() && e->between_steps && e->between_steps();
}
