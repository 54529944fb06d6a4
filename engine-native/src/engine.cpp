#include "engine.h"

#include "errors.h"

#include <algorithm>
#include <chrono>
#include <thread>

using sx_clock = std::chrono::steady_clock;

static double ms_since(sx_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(sx_clock::now() - t0).count();
}

int32_t sx_default_threads(void) {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : (int32_t) std::min(n, 16u);
}

// llama.cpp polls this during a decode: a cancelled request stops inside a long prompt pass.
static bool abort_if_cancelled(void * data) {
    return ((std::atomic<bool> *) data)->load();
}

static llama_context * context_init(llama_model * model, const sx_engine_params & p, std::atomic<bool> * cancel) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx               = p.n_ctx;
    cp.n_batch             = 512;
    cp.n_ubatch            = 512;
    cp.n_seq_max           = 1;
    cp.n_threads           = p.threads;
    cp.n_threads_batch     = p.threads;
    cp.no_perf             = true;
    cp.abort_callback      = abort_if_cancelled;
    cp.abort_callback_data = cancel;
    return llama_init_from_model(model, cp);
}

static void side_load(sx_side & side, const std::string & path, int32_t n_gpu_layers, const sx_engine_params & p,
                      std::atomic<bool> * cancel) {
    side.path  = path;
    side.model = sx_model_load(path, n_gpu_layers, false);
    side.ctx   = context_init(side.model, p, cancel);
    if (!side.ctx) {
        throw sx_error(SX_ERR_MODEL_UNSUPPORTED, "cannot create a context of " + std::to_string(p.n_ctx) +
                                                 " tokens for " + path + " (out of memory? try a smaller contextSize)");
    }
}

static void side_free(sx_side & side) {
    if (side.ctx) {
        llama_free(side.ctx);
    }
    sx_model_free(side.model);
    side = sx_side();
}

sx_engine * sx_engine_init(const sx_engine_params & params) {
    sx_engine * e = new sx_engine();
    e->params     = params;
    if (e->params.threads <= 0) {
        e->params.threads = sx_default_threads();
    }
    try {
        side_load(e->target, params.target_path, params.n_gpu_layers_target, e->params, &e->cancel);
        if (!params.draft_path.empty()) {
            side_load(e->draft, params.draft_path, params.n_gpu_layers_draft, e->params, &e->cancel);
            sx_check_vocab_compatible(e->draft.model, params.draft_path, e->target.model, params.target_path);
        }
    } catch (...) {
        sx_engine_free(e);
        throw;
    }
    return e;
}

void sx_engine_free(sx_engine * engine) {
    if (!engine) {
        return;
    }
    side_free(engine->draft);
    side_free(engine->target);
    delete engine;
}

// Decodes tokens at the end of seq 0, in n_batch chunks; logits for the last one only.
static void side_decode(sx_side & side, const llama_token * tokens, int32_t n) {
    const int32_t n_batch = (int32_t) llama_n_batch(side.ctx);
    for (int32_t i = 0; i < n; i += n_batch) {
        const int32_t m = std::min(n_batch, n - i);
        llama_batch   b = llama_batch_init(m, 0, 1);
        for (int32_t j = 0; j < m; ++j) {
            b.token[j]     = tokens[i + j];
            b.pos[j]       = (llama_pos) side.cached.size();
            b.n_seq_id[j]  = 1;
            b.seq_id[j][0] = 0;
            b.logits[j]    = i + j == n - 1;
            side.cached.push_back(tokens[i + j]);
        }
        b.n_tokens   = m;
        const int rc = llama_decode(side.ctx, b);
        llama_batch_free(b);
        if (rc != 0) {
            // the cache may hold part of the batch: forget it all rather than guess
            llama_memory_clear(llama_get_memory(side.ctx), true);
            side.cached.clear();
            if (rc == 2) {
                throw sx_error(SX_ERR_DECODE_FAILED, "cancelled");
            }
            throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": llama_decode failed with code " +
                                                 std::to_string(rc));
        }
    }
}

// Brings seq 0 to exactly `tokens`, reusing the longest cached prefix (editing near the cursor
// keeps most of the file's KV). At least the last token is decoded so its logits are fresh.
static void side_sync_prompt(sx_side & side, const std::vector<llama_token> & tokens) {
    size_t common = 0;
    while (common < side.cached.size() && common < tokens.size() && side.cached[common] == tokens[common]) {
        ++common;
    }
    common = std::min(common, tokens.size() - 1);
    llama_memory_seq_rm(llama_get_memory(side.ctx), 0, (llama_pos) common, -1);
    side.cached.resize(common);
    side_decode(side, tokens.data() + common, (int32_t) (tokens.size() - common));
}

// What one generation has produced so far; survives a cancellation mid-decode.
struct sx_generation {
    sx_result      result;
    sx_text_stream stream;
    sx_on_delta    on_delta;

    // Returns false when a stop string ended the text.
    bool emit(const llama_vocab * vocab, llama_token t) {
        result.tokens.push_back(t);
        const std::string delta = stream.push(sx_token_piece(vocab, t));
        if (!delta.empty()) {
            on_delta(delta, (int32_t) result.tokens.size());
        }
        return !stream.stopped;
    }
    void finish() {
        const std::string rest = stream.flush();
        if (!rest.empty()) {
            on_delta(rest, (int32_t) result.tokens.size());
        }
        result.text           = stream.text;
        result.stats.n_tokens = (int32_t) result.tokens.size();
    }
};

static void generate_autoregressive(sx_engine * e, const sx_request & req, const std::vector<llama_token> & prompt,
                                    sx_generation & gen, sx_clock::time_point t0) {
    sx_side &           target  = e->target;
    const llama_vocab * vocab   = llama_model_get_vocab(target.model);
    const int32_t       n_vocab = llama_vocab_n_tokens(vocab);
    const int32_t       n_ctx   = (int32_t) llama_n_ctx(target.ctx);
    sx_result &         result  = gen.result;

    side_sync_prompt(target, prompt);
    result.stats.prompt_ms     = ms_since(t0);
    result.stats.target_passes = 1; // the prompt pass yields the first token

    sx_sampler sampler;
    sx_sampler_init(sampler, req.sampling);
    result.stop_reason = "length";
    while ((int32_t) result.tokens.size() < req.max_tokens) {
        if (e->cancel.load()) {
            result.stop_reason = "cancelled";
            return;
        }
        const llama_token t = sx_sampler_sample(sampler, llama_get_logits_ith(target.ctx, -1), n_vocab);
        if (result.tokens.empty()) {
            result.stats.first_token_ms = ms_since(t0);
        }
        if (llama_vocab_is_eog(vocab, t)) {
            result.stop_reason = "eos";
            return;
        }
        if (!gen.emit(vocab, t)) {
            result.stop_reason = "stop";
            return;
        }
        if ((int32_t) result.tokens.size() >= req.max_tokens) {
            return;
        }
        if ((int32_t) target.cached.size() >= n_ctx) {
            result.stop_reason = "context";
            return;
        }
        side_decode(target, &t, 1);
        result.stats.target_passes++;
    }
}

sx_result sx_engine_generate(sx_engine * e, const sx_request & req, const sx_on_delta & on_delta) {
    const sx_clock::time_point t0 = sx_clock::now();
    struct reset_cancel {
        std::atomic<bool> & flag;
        ~reset_cancel() { flag.store(false); }
    } reset{e->cancel};

    if (req.max_tokens < 0) {
        throw sx_error(SX_ERR_INVALID_ARGUMENT, "maxTokens must be >= 0");
    }
    const llama_vocab *      vocab  = llama_model_get_vocab(e->target.model);
    std::vector<llama_token> prompt = sx_prompt_tokens(vocab, req.prompt);
    if (prompt.empty()) {
        throw sx_error(SX_ERR_INVALID_ARGUMENT, "the prompt is empty");
    }
    const int32_t n_ctx = (int32_t) llama_n_ctx(e->target.ctx);
    if ((int32_t) prompt.size() + 1 > n_ctx) {
        throw sx_error(SX_ERR_CONTEXT_OVERFLOW, "the prompt has " + std::to_string(prompt.size()) +
                                                " tokens but the context holds " + std::to_string(n_ctx) +
                                                "; shorten it or raise contextSize");
    }
    sx_generation gen;
    gen.stream.stops              = req.stop;
    gen.on_delta                  = on_delta;
    gen.result.stats.n_prompt_tokens = (int32_t) prompt.size();
    try {
        generate_autoregressive(e, req, prompt, gen, t0);
    } catch (const sx_error &) {
        if (!e->cancel.load()) {
            throw;
        }
        gen.result.stop_reason = "cancelled"; // llama_decode was aborted by the cancel flag
    }
    gen.finish();
    gen.result.stats.elapsed_ms = ms_since(t0);
    return gen.result;
}
