#include "decode.h"
#include "draft_model.h"
#include "verify.h"

#include <algorithm>

// What the rounds of one generation carry from one to the next.
struct sx_speculation {
    // the target's history ends before the root of the next tree (the last token); the draft's
    // includes it
    std::vector<llama_token> tokens;
    // history the target has yet to read: it goes into the first round's pass with the tree
    std::vector<llama_token> unread;
    sx_draft_round           round;
    bool                     draft_stale = true;  // the draft catches up in one pass when a round needs it
    int32_t                  n_ctx       = 0;
};

static sx_tree_params tree_params(const sx_engine *  e,
                                  const sx_request & req,
                                  int32_t            budget,
                                  int32_t            remaining,
                                  int32_t            room) {
    sx_tree_params p;
    p.max_leaves = e->target.n_seq_max;
    p.max_depth  = std::min({ req.max_depth, remaining - 1, room });  // the bonus token comes on top
    switch (req.mode) {
        case SX_MODE_SPECINFER:
            p.shape = SX_SHAPE_SPECINFER;
            break;
        case SX_MODE_CHAIN:
            p.shape       = SX_SHAPE_CHAIN;
            p.chain_p_min = req.draft_p_min;
            break;
        default:
            p.shape = SX_SHAPE_SPECEXEC;
            break;
    }
    p.budget = req.mode == SX_MODE_CHAIN ? req.draft_max : budget;
    p.budget = std::min({ p.budget, room, e->target.n_batch - 1, e->params.max_budget });
    return p;
}

// The request's budget, or `auto`'s choice: 0 (no draft this round) when a stale draft's catch-up
// pass would cost more than the tree is expected to save.
static int32_t choose_budget(sx_engine *            e,
                             const sx_request &     req,
                             const sx_speculation & s,
                             int32_t                remaining,
                             int32_t                room) {
    if (req.budget > 0 || req.mode != SX_MODE_SPECEXEC) {
        return req.budget;
    }
    const int32_t budget = sx_budget_choose(e->budget, room);
    if (s.draft_stale &&
        !sx_budget_catch_up_pays(e->budget, budget, sx_side_tokens_to_sync(e->draft, s.tokens), remaining)) {
        return 0;
    }
    return budget;
}

// Brings a stale draft up to date in one pass. Timed with the draft, but kept out of the round's
// time that the budget chooser learns from.
static void catch_up_draft(sx_engine * e, sx_speculation & s, sx_stats & stats) {
    const sx_clock::time_point t0 = sx_clock::now();
    sx_side_sync_prompt(e->draft, s.tokens);
    stats.draft_ms += ms_since(t0);
    s.draft_stale = false;
}

// The draft tree of a round, rooted at the last accepted token (the root alone without a draft).
static sx_tree grow_tree(sx_engine *            e,
                         sx_speculation &       s,
                         const sx_tree_params & p,
                         bool                   use_draft,
                         sx_stats &             stats) {
    const sx_clock::time_point t0 = sx_clock::now();
    sx_tree                    tree;
    sx_tree_init(tree, s.tokens.back());
    if (use_draft) {
        sx_draft_round_begin(s.round, e->draft);
        sx_tree_grow(tree, p,
                     [&](const sx_tree & t, const std::vector<int32_t> & nodes, int32_t top_n,
                         std::vector<sx_candidates> & out) { return sx_draft_expand(s.round, t, nodes, top_n, out); });
    }
    stats.draft_ms += ms_since(t0);
    return tree;
}

static int32_t child_with_token(const sx_tree & tree, const std::vector<int32_t> & children, llama_token t) {
    for (int32_t c : children) {
        if (tree.token[c] == t) {
            return c;
        }
    }
    return -1;
}

// The target's next most likely first tokens at the root of a verified tree, each continued
// greedily as far as the pass computed: a root child with the alternative's token holds the
// target's next token after it, and so on down while that token is the node's child. Free: no
// target pass beyond the one that verified the tree. (Sampled generations: first tokens only.)
static std::vector<sx_alternative> tree_alternatives(sx_engine *                               e,
                                                     const sx_request &                        req,
                                                     const sx_tree &                           tree,
                                                     const std::vector<std::vector<int32_t>> & children,
                                                     int32_t                                   first_logits,
                                                     const std::vector<llama_token> &          emitted) {
    const llama_vocab *         vocab   = llama_model_get_vocab(e->target.model);
    const int32_t               n_vocab = llama_vocab_n_tokens(vocab);
    const bool                  greedy  = req.sampling.temperature <= 0.0f;
    const llama_token           drawn   = emitted.empty() ? LLAMA_TOKEN_NULL : emitted[0];
    std::vector<sx_alternative> out =
        sx_alternatives_at(vocab, llama_get_logits_ith(e->target.ctx, first_logits), drawn, req.n_alternatives);
    for (sx_alternative & a : out) {
        bool    then_eog = false;
        int32_t node     = greedy ? child_with_token(tree, children[0], a.token) : -1;
        while (node >= 0 && (int32_t) a.tokens.size() < req.max_tokens) {
            const llama_token next = sx_argmax(llama_get_logits_ith(e->target.ctx, first_logits + node), n_vocab);
            if (llama_vocab_is_eog(vocab, next)) {
                then_eog = true;
                break;
            }
            a.tokens.push_back(next);
            node = child_with_token(tree, children[node], next);
        }
        sx_alternative_settle(vocab, req, a, then_eog);
    }
    return out;
}

// One target pass over the unread history and the tree; then, from the root down, the token the
// target draws at each node: the walk goes on while it is the node's draft child. Returns the
// accepted nodes; `bonus` is the token drawn after the last of them (LLAMA_TOKEN_NULL if the
// generation ended first). The alternatives, when asked for, are read off the same pass.
static std::vector<int32_t> verify_and_accept(sx_engine *                         e,
                                              [[maybe_unused]] const sx_request & req,
                                              sx_speculation &                    s,
                                              const sx_tree &                     tree,
                                              bool                                with_alternatives,
                                              sx_generation &                     gen,
                                              llama_token &                       bonus,
                                              double &                            target_ms) {
    sx_side &                         target = e->target;
    const llama_vocab *               vocab  = llama_model_get_vocab(target.model);
    const sx_clock::time_point        t0     = sx_clock::now();
    std::vector<std::vector<int32_t>> leaf_seqs;
    sx_verify_tree(target, s.unread, tree, leaf_seqs);
    target_ms                  = ms_since(t0);
    const int32_t first_logits = (int32_t) s.unread.size();
    s.unread.clear();

    bonus                               = LLAMA_TOKEN_NULL;
    const auto                 children = sx_tree_children(tree);
    const std::vector<int32_t> accepted = sx_tree_walk(
        tree, children,
        [&](int32_t node) {
#ifdef SX_TESTING
            if (req.unsafe_accept_draft && !children[node].empty()) {
                return gen.emit(vocab, tree.token[children[node][0]]);
            }
#endif
            return gen.draw(vocab, llama_get_logits_ith(target.ctx, first_logits + node));
        },
        &bonus);
    if (with_alternatives) {
        gen.result.alternatives = tree_alternatives(e, req, tree, children, first_logits, gen.result.tokens);
    }
    sx_verify_accept(target, tree, leaf_seqs, accepted);
    return accepted;
}

// The accepted tokens and the bonus join the history; a draft that drafted this round follows them
// at once (its pass over them is part of the round), one that did not is left stale.
static void advance(sx_engine *                  e,
                    sx_speculation &             s,
                    const sx_tree &              tree,
                    const std::vector<int32_t> & accepted,
                    llama_token                  bonus,
                    bool                         use_draft,
                    sx_stats &                   stats) {
    for (int32_t node : accepted) {
        s.tokens.push_back(tree.token[node]);
    }
    s.tokens.push_back(bonus);
    if (!use_draft) {
        s.draft_stale = true;
        return;
    }
    const sx_clock::time_point t0 = sx_clock::now();
    sx_side_sync_prompt(e->draft, s.tokens);
    stats.draft_ms += ms_since(t0);
}

// `auto` learns what the round yielded within each smaller candidate budget and what it cost:
// `other_ms` is everything but the target pass (draft passes, tree bookkeeping, sampling, the
// draft's pass over the bonus token).
static void learn(sx_engine *                  e,
                  const sx_tree &              tree,
                  const std::vector<int32_t> & accepted,
                  int32_t                      budget,
                  double                       other_ms,
                  double                       target_ms) {
    std::vector<int32_t> smaller;  // the candidates this round's tree measures
    for (int32_t k : e->budget.candidates) {
        if (k <= budget) {
            smaller.push_back(k);
        }
    }
    sx_budget_observe(e->budget, budget, sx_tree_tokens_within(tree, accepted, smaller), other_ms, target_ms,
                      tree.size() - 1);
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

// The prompt's pass alone yields the first token (or the forced ones); the rounds start after it.
// Returns false when the generation ended there.
static bool start_with_prefill(sx_engine *                      e,
                               const std::vector<llama_token> & prompt,
                               sx_generation &                  gen,
                               sx_speculation &                 s) {
    const llama_token first = sx_generation_prefill(e, prompt, gen);
    sx_tree           prompt_pass;  // a round without a draft, rooted at the last prompt token
    sx_tree_init(prompt_pass, prompt.back());
    record_round(gen.result.stats, prompt_pass, 0, (int32_t) gen.result.tokens.size());
    if (first == LLAMA_TOKEN_NULL) {
        return false;
    }
    s.tokens = prompt;
    s.tokens.insert(s.tokens.end(), gen.result.tokens.begin(), gen.result.tokens.end());
    return true;
}

// The target reads what of the unread prompt would not fit in one batch beside a tree of `budget`
// nodes and the root; the rest goes into the tree's pass.
static void read_unread_beyond(sx_engine * e, sx_speculation & s, int32_t budget) {
    const int32_t fit  = e->target.n_batch - 1 - budget;
    const int32_t over = (int32_t) s.unread.size() - fit;
    if (over > 0) {
        sx_side_decode(e->target, s.unread.data(), over);
        s.unread.erase(s.unread.begin(), s.unread.begin() + over);
    }
}

void sx_decode_speculative(sx_engine *                      e,
                           const sx_request &               req,
                           const std::vector<llama_token> & prompt,
                           sx_generation &                  gen) {
    sx_stats &    stats         = gen.result.stats;
    const bool    adapt         = req.budget <= 0 && req.mode == SX_MODE_SPECEXEC;
    const int32_t draft_passes0 = e->draft.passes;

    sx_speculation s;
    s.n_ctx = std::min((int32_t) llama_n_ctx(e->target.ctx), (int32_t) llama_n_ctx(e->draft.ctx));
    if (req.n_alternatives > 0 && req.forced_tokens.empty()) {
        // the prompt's pass verifies the first tree: the alternatives are read off it
        s.tokens = prompt;
        s.unread = sx_side_unread(e->target, prompt);
    } else if (!start_with_prefill(e, prompt, gen, s)) {
        return;
    }
    while (!gen.ended) {
        if (sx_engine_yield(e)) {
            s.draft_stale = true;  // its history is back, but its last logits are the other generation's
        }
        if (sx_cancel_requested(e->signals)) {
            gen.end(SX_STOP_CANCELLED);
            break;
        }
        const int32_t remaining = req.max_tokens - (int32_t) gen.result.tokens.size();
        const int32_t room      = s.n_ctx - (int32_t) s.tokens.size() - 2;  // once both caches hold the tokens
        if (room < 0) {
            gen.end(SX_STOP_CONTEXT);
            break;
        }
        const sx_tree_params p = tree_params(e, req, choose_budget(e, req, s, remaining, room), remaining, room);
        const bool           use_draft = p.budget > 0 && p.max_depth > 0;

        if (use_draft && s.draft_stale) {
            catch_up_draft(e, s, stats);
        }
        const bool reads_prompt = !s.unread.empty();
        if (reads_prompt) {
            read_unread_beyond(e, s, p.budget);
        }
        const sx_clock::time_point t1       = sx_clock::now();
        const sx_tree              tree     = grow_tree(e, s, p, use_draft, stats);
        const int32_t              n_before = (int32_t) gen.result.tokens.size();
        llama_token                bonus;
        double                     target_ms;
        const bool                 first = stats.target_passes == 0;
        const std::vector<int32_t> accepted =
            verify_and_accept(e, req, s, tree, first && req.n_alternatives > 0, gen, bonus, target_ms);
        stats.target_passes++;
        if (first) {
            stats.prompt_ms            = ms_since(gen.t0);  // the prompt's pass, with its tree
            stats.n_prompt_pass_tokens = (int32_t) gen.result.tokens.size();
        } else {
            stats.target_ms += target_ms;
        }
        if (use_draft) {
            sx_draft_round_end(s.round, tree, accepted);
        }
        record_round(stats, tree, p.budget, (int32_t) gen.result.tokens.size() - n_before);
        if (!gen.ended) {
            advance(e, s, tree, accepted, bonus, use_draft, stats);
        }
        if (adapt && !reads_prompt) {  // a pass that also read prompt tokens costs more than its tree
            learn(e, tree, accepted, p.budget, ms_since(t1) - target_ms, target_ms);
        }
    }
    stats.draft_passes = e->draft.passes - draft_passes0;
}
