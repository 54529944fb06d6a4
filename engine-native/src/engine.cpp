#include "engine.h"

#include "cpu_backend.h"

#include "draft_model.h"
#include "errors.h"
#include "model.h"
#include "offload.h"
#include "verify.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

using sx_clock = std::chrono::steady_clock;

static double ms_since(sx_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(sx_clock::now() - t0).count();
}

const char * sx_stop_reason_name(sx_stop_reason reason) {
    switch (reason) {
        case SX_STOP_EOS:       return "eos";
        case SX_STOP_LENGTH:    return "length";
        case SX_STOP_STRING:    return "stop";
        case SX_STOP_CANCELLED: return "cancelled";
        case SX_STOP_CONTEXT:   return "context";
    }
    return "length";
}

int32_t sx_default_threads(void) {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : (int32_t) std::min(n, 16u);
}

static const int32_t PROMPT_BATCH = 512;
static const int32_t MAX_BEAMS    = 128;
// ggml's GPU backends compute the layers left in RAM on the GPU from this batch size (op_offload)
static const int32_t OP_OFFLOAD_MIN_BATCH = 32;
// a calibration past this is cut short (the curve is extrapolated from what was measured)
static const double  CALIBRATION_MAX_MS   = 10000;
// tokens of history the calibration's passes attend over (bench and editor prompts: 300-1,500),
// as many as its prefill reads in about this time
static const int32_t CALIBRATION_HISTORY    = 256;
static const double  CALIBRATION_HISTORY_MS = 3000;

sx_engine_ptr sx_engine_init(const sx_engine_params & params) {
    sx_engine_ptr e(new sx_engine());
    e->params     = params;
    if (e->params.threads <= 0) {
        e->params.threads = sx_default_threads();
    }
    e->params.max_budget = std::max(1, std::min(e->params.max_budget, 4 * SPECEXEC_MAX_SEQ));
    const bool speculative = !params.draft_path.empty();
    // the engine owns everything from here: a throw frees what was loaded so far
    sx_side_params tp;
    tp.n_ctx        = e->params.n_ctx;
    tp.n_batch      = speculative ? std::max(PROMPT_BATCH, e->params.max_budget + 1) : PROMPT_BATCH;
    tp.n_seq_max    = speculative ? SPECEXEC_MAX_SEQ : 1;
    tp.threads      = e->params.threads;
    sx_backend_init();
    e->threadpool   = sx_cpu_threadpool_new(tp.threads);
    tp.threadpool   = e->threadpool;
    const int32_t draft_batch = std::max(PROMPT_BATCH, MAX_BEAMS);
    sx_offload_resolve(e->params, draft_batch, tp.n_batch);
    tp.n_gpu_layers = e->params.n_gpu_layers_target;
    sx_side_init(e->target, params.target_path, tp, &e->cancel);
    if (speculative) {
        sx_side_params dp = tp;
        dp.n_batch        = draft_batch;
        dp.n_gpu_layers   = e->params.n_gpu_layers_draft;
        sx_side_init(e->draft, params.draft_path, dp, &e->cancel);
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

// ---------------------------------------------------------------------------------------------
// calibration: one forward pass against batch size after a typical prompt, on a throw-away sequence

static std::string calibration_key(const sx_side & side, int32_t threads) {
    struct stat st;
    stat(side.path.c_str(), &st);
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    // the placement last: a CPU build, a GPU build and each GPU layer split time differently, and
    // so does each CPU variant (AMX or not); "tree": passes timed as trees (curves cached before
    // were causal batches); "pool": passes run on ggml's thread pool (curves before were OpenMP's)
    return side.path + "|" + std::to_string((long long) st.st_size) + "|" + std::to_string((long long) st.st_mtime) + "|t" +
           std::to_string(threads) + "|b" + std::to_string(side.n_batch) + "|h" + std::to_string(CALIBRATION_HISTORY) + "|tree|pool|" + host +
           "|" + sx_side_placement(side) + "|" + sx_cpu_variant_name();
}

static std::vector<llama_token> calibration_tokens(const sx_side & side, int32_t n, int32_t salt) {
    std::vector<llama_token> tokens(n);
    const int32_t            n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(side.model));
    for (int32_t i = 0; i < n; ++i) {
        tokens[i] = (i * 7919 + salt) % n_vocab;
    }
    return tokens;
}

// The tree a calibration pass verifies: n nodes, node i's parent (i - 1) / fan_out, about as bushy
// as a best-first draft tree (two leaves in three) while its leaves fit the sequences.
static sx_tree calibration_tree(const sx_side & side, int32_t n) {
    const std::vector<llama_token> tokens  = calibration_tokens(side, n, 13);
    int32_t                        fan_out = 3;
    while (fan_out > 1 && n - (n - 1 + fan_out - 1) / fan_out > side.n_seq_max) {
        fan_out--;
    }
    sx_tree tree;
    sx_tree_init(tree, tokens[0]);
    for (int32_t i = 1; i < n; ++i) {
        tree.add(tokens[i], (i - 1) / fan_out, -(float) i);
    }
    return tree;
}

// One pass of n tokens after the calibration history, as verification runs it: a tree of n nodes
// (one sequence per leaf, the history shared by all, logits for every node; a causal batch of the
// same size costs less once the tree has hundreds of leaves). The median of three.
static double time_pass(sx_side & side, int32_t n) {
    const sx_tree                     tree     = calibration_tree(side, n);
    const llama_pos                   root_pos = (llama_pos) side.cached.size();
    std::vector<std::vector<int32_t>> leaf_seqs;
    double                            ms[3];
    for (double & m : ms) {
        const sx_clock::time_point t0 = sx_clock::now();
        sx_verify_tree(side, tree, leaf_seqs);
        m = ms_since(t0);
        llama_memory_seq_rm(llama_get_memory(side.ctx), -1, root_pos, -1);
    }
    std::sort(ms, ms + 3);
    return ms[1];
}

static sx_cost_curve calibrate_side(sx_side & side, int32_t max_batch, const std::string & cache, int32_t threads) {
    sx_cost_curve curve;
    const std::string key = calibration_key(side, threads);
    if (!cache.empty() && sx_budget_cache_read(cache, key, curve)) {
        return curve;
    }
    const int32_t top     = std::min(max_batch, side.n_batch);
    // the history of a typical completion prompt, as far as the context leaves room for it and a
    // slow model's prefill stays short (chunks while under CALIBRATION_HISTORY_MS)
    const int32_t history = std::max(0, std::min<int32_t>(CALIBRATION_HISTORY, (int32_t) llama_n_ctx(side.ctx) - top - 1));
    const std::vector<llama_token> prompt  = calibration_tokens(side, history, 101);
    const sx_clock::time_point     t0      = sx_clock::now();
    sx_side_reset(side);
    for (int32_t i = 0; i < history && ms_since(t0) < CALIBRATION_HISTORY_MS; i += 64) {
        sx_side_decode(side, prompt.data() + i, std::min(64, history - i));
    }
    time_pass(side, 1); // warm-up: first passes allocate and fault in the weights
    // A calibration must stay short, yet see the curve as far as it affords: it doubles the batch
    // while the next doubling (about twice this pass, three times) fits in the time left; beyond
    // that the curve is extrapolated linearly (which underestimates: a tree's attention grows
    // faster than its size). On a GPU, a slow pass that did not grow means weights streamed over
    // the bus (500 tokens cost what 1 does): the largest batch alone decides the rest. Below
    // op_offload's batch, layers in RAM run on the CPU, whose memory-bound small batches look flat
    // too, so only GPU batches may jump.
    const bool gpu      = sx_side_placement(side) != "cpu";
    double     spent_ms = 0;
    for (int32_t n = 1;;) {
        const double ms    = time_pass(side, n);
        const bool   grows = !curve.ms.empty() && ms >= 1.8 * curve.ms.back();
        const bool   slow  = ms > 250.0;
        curve.batch.push_back(n);
        curve.ms.push_back(ms);
        spent_ms += 3 * ms; // time_pass takes the median of three
        if (n >= top || spent_ms + 3 * 2 * ms > CALIBRATION_MAX_MS) {
            break;
        }
        n = gpu && n >= OP_OFFLOAD_MIN_BATCH && slow && !grows ? top : std::min(2 * n, top);
    }
    sx_side_reset(side);
    if (!cache.empty()) {
        sx_budget_cache_write(cache, key, curve);
    }
    return curve;
}

void sx_engine_calibrate(sx_engine * e) {
    if (!e->draft.model) {
        return;
    }
    e->budget.target = calibrate_side(e->target, std::min(e->target.n_batch, e->params.max_budget + 1),
                                      e->params.calibration_cache, e->params.threads);
    e->budget.draft  = calibrate_side(e->draft, std::min(e->draft.n_batch, MAX_BEAMS), e->params.calibration_cache,
                                      e->params.threads);
}

std::vector<double> sx_engine_time_target_passes(sx_engine * e, const std::vector<int32_t> & batches) {
    const int32_t history = (int32_t) e->target.cached.size();
    const int32_t room    = std::min<int32_t>(e->target.n_batch, (int32_t) llama_n_ctx(e->target.ctx) - history);
    for (int32_t n : batches) {
        if (n < 1 || n > room) {
            throw sx_error(SX_ERR_INVALID_PARAMS, std::string(__func__) + ": batch sizes must be 1 to " + std::to_string(room) +
                                                        " (the target's batch, and the context after its " +
                                                        std::to_string(history) + " cached tokens), got " + std::to_string(n));
        }
    }
    std::vector<double> ms;
    for (int32_t n : batches) {
        ms.push_back(time_pass(e->target, n));
    }
    return ms;
}

// ---------------------------------------------------------------------------------------------
// generation

// What one generation has produced so far; survives a cancellation mid-decode.
struct sx_generation {
    const sx_request *   req = nullptr;
    sx_result            result;
    sx_text_stream       stream;
    sx_on_delta          on_delta;
    sx_sampler           sampler;
    sx_clock::time_point t0;
    bool                 ended = false;

    // Draws the target's token from a row of logits and emits it.
    llama_token draw(const llama_vocab * vocab, const float * logits) {
        return emit(vocab, sx_sampler_sample(sampler, logits, llama_vocab_n_tokens(vocab)));
    }
    // Appends a token and streams its text. Returns it, or LLAMA_TOKEN_NULL when the generation
    // has ended (end of text, stop string, max tokens).
    llama_token emit(const llama_vocab * vocab, llama_token t) {
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
    llama_token end(sx_stop_reason reason) {
        result.stop_reason = reason;
        ended              = true;
        return LLAMA_TOKEN_NULL;
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

// Prefills the target with the whole prompt; that pass yields the first token, in every mode, so
// the first ghost text never waits for the draft and a round without a draft costs what
// autoregressive decoding does.
static llama_token prefill_and_draw_first(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen) {
    sx_side_sync_prompt(e->target, prompt);
    gen.result.stats.prompt_ms     = ms_since(gen.t0);
    gen.result.stats.target_passes = 1;
    return gen.draw(llama_model_get_vocab(e->target.model), llama_get_logits_ith(e->target.ctx, -1));
}

static void generate_autoregressive(sx_engine * e, const std::vector<llama_token> & prompt, sx_generation & gen) {
    sx_side &           target = e->target;
    const llama_vocab * vocab  = llama_model_get_vocab(target.model);
    const int32_t       n_ctx  = (int32_t) llama_n_ctx(target.ctx);

    llama_token t = prefill_and_draw_first(e, prompt, gen);
    while (t != LLAMA_TOKEN_NULL) {
        if (e->cancel.load()) {
            gen.end(SX_STOP_CANCELLED);
            return;
        }
        if ((int32_t) target.cached.size() >= n_ctx) {
            gen.end(SX_STOP_CONTEXT);
            return;
        }
        const sx_clock::time_point t1 = sx_clock::now();
        sx_side_decode(target, &t, 1);
        gen.result.stats.target_ms += ms_since(t1);
        gen.result.stats.target_passes++;
        t = gen.draw(vocab, llama_get_logits_ith(target.ctx, -1));
    }
}

static sx_tree_params tree_params(const sx_engine * e, const sx_request & req, int32_t remaining, int32_t room) {
    sx_tree_params p;
    p.max_beams  = MAX_BEAMS;
    p.max_leaves = e->target.n_seq_max;
    p.max_depth  = std::min(req.max_depth, remaining - 1); // the bonus token comes on top
    switch (req.mode) {
        case SX_MODE_SPECINFER: p.shape = SX_SHAPE_SPECINFER; break;
        case SX_MODE_CHAIN:     p.shape = SX_SHAPE_CHAIN; p.chain_p_min = req.draft_p_min; break;
        default:                p.shape = SX_SHAPE_SPECEXEC; break;
    }
    p.budget = req.mode == SX_MODE_CHAIN ? req.draft_max : req.budget;
    p.budget = std::min({p.budget, room, e->target.n_batch - 1, e->params.max_budget});
    p.max_depth = std::min(p.max_depth, room);
    return p;
}

static void record_round(sx_stats & s, const sx_tree & tree, int32_t budget, int32_t yielded) {
    if ((int32_t) s.tokens_per_pass_histogram.size() <= yielded) {
        s.tokens_per_pass_histogram.resize(yielded + 1, 0);
    }
    s.tokens_per_pass_histogram[yielded]++;
    s.tree_sizes.push_back(tree.size() - 1);
    s.tree_depths.push_back(sx_tree_max_depth(tree));
    s.tree_leaves.push_back(sx_tree_leaf_count(tree));
    s.budgets.push_back(budget);
    s.budget = budget;
}

static void generate_speculative(sx_engine * e, const sx_request & req, const std::vector<llama_token> & prompt,
                                 sx_generation & gen) {
    sx_side &           target = e->target;
    sx_side &           draft  = e->draft;
    const llama_vocab * vocab  = llama_model_get_vocab(target.model);
    const bool          adapt  = req.budget <= 0 && req.mode == SX_MODE_SPECEXEC;
    sx_stats &          stats  = gen.result.stats;

    // the target's history ends before the root of the next tree (the last token); the draft's
    // includes it
    std::vector<llama_token> tokens = prompt;
    const int32_t            draft_passes0 = draft.passes;
    const llama_token        first         = prefill_and_draw_first(e, prompt, gen);
    sx_tree                  prompt_pass; // a round without a draft, rooted at the last prompt token
    sx_tree_init(prompt_pass, prompt.back());
    record_round(stats, prompt_pass, 0, (int32_t) gen.result.tokens.size());
    if (first == LLAMA_TOKEN_NULL) {
        return;
    }
    tokens.push_back(first);
    const int32_t n_ctx = std::min((int32_t) llama_n_ctx(target.ctx), (int32_t) llama_n_ctx(draft.ctx));

    sx_draft_round round;
    bool           draft_stale = true; // the draft catches up in one pass when a round needs it
    for (;;) {
        if (e->cancel.load()) {
            gen.end(SX_STOP_CANCELLED);
            break;
        }
        const int32_t remaining = gen.req->max_tokens - (int32_t) gen.result.tokens.size();
        const int32_t room      = n_ctx - (int32_t) tokens.size() - 2; // once both caches hold `tokens`
        if (room < 0) {
            gen.end(SX_STOP_CONTEXT);
            break;
        }
        sx_request r = req;
        if (adapt) {
            r.budget = sx_budget_choose(e->budget, room);
            if (draft_stale && !sx_budget_catch_up_pays(e->budget, r.budget, sx_side_tokens_to_sync(draft, tokens), remaining)) {
                r.budget = 0;
            }
        }
        const sx_tree_params p         = tree_params(e, r, remaining, room);
        const bool           use_draft = p.budget > 0 && p.max_depth > 0;

        if (use_draft && draft_stale) {
            // timed with the draft but kept out of the per-round figures the budget chooser learns from
            const sx_clock::time_point t0 = sx_clock::now();
            sx_side_sync_prompt(draft, tokens);
            stats.draft_ms += ms_since(t0);
            draft_stale = false;
        }
        const sx_clock::time_point t1 = sx_clock::now();
        sx_tree                    tree;
        sx_tree_init(tree, tokens.back());
        if (use_draft) {
            sx_draft_round_begin(round, draft);
            sx_tree_grow(tree, p, [&](const sx_tree & t, const std::vector<int32_t> & nodes, int32_t top_n,
                                      std::vector<sx_candidates> & out) {
                return sx_draft_expand(round, t, nodes, top_n, out);
            });
        }
        const double draft_ms = ms_since(t1);

        const sx_clock::time_point        t2 = sx_clock::now();
        std::vector<std::vector<int32_t>> leaf_seqs;
        sx_verify_tree(target, tree, leaf_seqs);
        const double target_ms = ms_since(t2);
        stats.draft_ms += draft_ms;
        stats.target_ms += target_ms;
        stats.target_passes++;

        const int32_t n_before = (int32_t) gen.result.tokens.size();
        llama_token   bonus    = LLAMA_TOKEN_NULL;
        const auto    children = sx_tree_children(tree);
        const std::vector<int32_t> accepted = sx_tree_walk(tree, children, [&](int32_t node) {
            if (req.unsafe_accept_draft && !children[node].empty()) {
                return gen.emit(vocab, tree.token[children[node][0]]);
            }
            return gen.draw(vocab, llama_get_logits_ith(target.ctx, node));
        }, &bonus);
        sx_verify_accept(target, tree, leaf_seqs, accepted);
        if (use_draft) {
            sx_draft_round_end(round, tree, accepted);
        }

        const int32_t yielded = (int32_t) gen.result.tokens.size() - n_before;
        record_round(stats, tree, p.budget, yielded);
        if (!gen.ended) {
            for (int32_t node : accepted) {
                tokens.push_back(tree.token[node]);
            }
            tokens.push_back(bonus);
            if (use_draft) {
                const sx_clock::time_point t3 = sx_clock::now();
                sx_side_sync_prompt(draft, tokens);
                stats.draft_ms += ms_since(t3);
            } else {
                draft_stale = true;
            }
        }
        if (adapt) {
            // everything but the target pass: draft passes, tree bookkeeping, sampling, the draft's
            // pass over the bonus token
            std::vector<int32_t> smaller; // the candidates this round's tree measures
            for (int32_t k : e->budget.candidates) {
                if (k <= p.budget) {
                    smaller.push_back(k);
                }
            }
            sx_budget_observe(e->budget, p.budget, sx_tree_tokens_within(tree, accepted, smaller), ms_since(t1) - target_ms,
                              target_ms, tree.size() - 1);
        }
        if (gen.ended) {
            break;
        }
    }
    stats.draft_passes = draft.passes - draft_passes0;
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
    const int32_t n_ctx = (int32_t) llama_n_ctx(e->target.ctx);
    if ((int32_t) n_prompt + 1 > n_ctx) {
        throw sx_error(SX_ERR_CONTEXT_OVERFLOW, "the prompt has " + std::to_string(n_prompt) +
                                                " tokens but the context holds " + std::to_string(n_ctx) +
                                                "; shorten it or raise contextSize");
    }
}

// Longest prompt that leaves room to generate: max tokens (at most a quarter of the context: an
// editor's prompt is worth more than a completion nobody asked to be that long), plus the two cells
// a speculative round needs beyond its accepted tokens.
static int32_t prompt_room(const sx_engine * e, const sx_request & req) {
    const int32_t n_ctx = (int32_t) llama_n_ctx(e->target.ctx);
    return n_ctx - std::max(1, std::min(req.max_tokens, n_ctx / 4)) - 2;
}

sx_result sx_engine_generate(sx_engine * e, const sx_request & req, const sx_on_delta & on_delta) {
    struct reset_cancel {
        std::atomic<bool> & flag;
        ~reset_cancel() { flag.store(false); }
    } reset{e->cancel};

    sx_generation gen;
    gen.t0       = sx_clock::now();
    gen.req      = &req;
    gen.on_delta = on_delta;
    gen.stream.stops       = req.stop;
    sx_sampler_init(gen.sampler, req.sampling);

    const std::vector<llama_token> prompt =
        sx_prompt_tokens_fit(llama_model_get_vocab(e->target.model), req.prompt, prompt_room(e, req), gen.result.trim);
    check_request(e, req, prompt.size());
    gen.result.stats.n_prompt_tokens = (int32_t) prompt.size();
    if (req.max_tokens > 0) {
        try {
            if (req.mode == SX_MODE_AUTOREGRESSIVE) {
                generate_autoregressive(e, prompt, gen);
            } else {
                generate_speculative(e, req, prompt, gen);
            }
        } catch (const sx_error &) {
            // a pass failed or was aborted part-way: both caches may hold stray cells
            sx_side_reset(e->target);
            if (e->draft.model) {
                sx_side_reset(e->draft);
            }
            if (!e->cancel.load()) {
                throw;
            }
            gen.end(SX_STOP_CANCELLED); // llama_decode was aborted by the cancel flag
        }
    }
    gen.finish();
    gen.result.stats.elapsed_ms = ms_since(gen.t0);
    return gen.result;
}

std::vector<float> sx_engine_next_logits(sx_engine * e, const std::vector<llama_token> & tokens) {
    if (tokens.empty() || (int32_t) tokens.size() >= (int32_t) llama_n_ctx(e->target.ctx)) {
        throw sx_error(SX_ERR_INVALID_PARAMS, std::string(__func__) + ": need 1 to n_ctx - 1 tokens");
    }
    sx_side_sync_prompt(e->target, tokens);
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(e->target.model));
    const float * l       = llama_get_logits_ith(e->target.ctx, -1);
    return std::vector<float>(l, l + n_vocab);
}
