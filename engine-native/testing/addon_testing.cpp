// What the testing addon (specexec-testing.node, never packaged) adds to the shipped one: the
// reference oracles (evalLogits, referenceGreedy), Engine.nextLogits, and addon.testing: the
// engine's tree code on a fake draft model (a table of fixed probabilities) or a real model, the
// budget chooser on synthetic cost curves, the offload arithmetic on synthetic layer sizes.
#include "addon_testing.h"

#include "budget.h"
#include "convert.h"
#include "engine_wrap.h"
#include "errors.h"
#include "model.h"
#include "offload.h"
#include "reference.h"
#include "side.h"
#include "tree_grow.h"
#include "verify.h"

#include <cmath>
#include <map>
#include <memory>

static sx_tree tree_from_js(const Napi::Object & o) {
    std::vector<llama_token> tokens  = tokens_from_js(o.Get("tokens"));
    Napi::Array              parents = o.Get("parents").As<Napi::Array>();
    const bool               scored  = o.Has("scores");  // else node order is score order
    Napi::Array              scores  = scored ? o.Get("scores").As<Napi::Array>() : Napi::Array::New(o.Env());
    sx_tree                  tree;
    sx_tree_init(tree, tokens.at(0));
    for (size_t i = 1; i < tokens.size(); ++i) {
        const float score = scored ? scores.Get((uint32_t) i).As<Napi::Number>().FloatValue() : -(float) i;
        tree.add(tokens[i], parents.Get((uint32_t) i).As<Napi::Number>().Int32Value(), score);
    }
    return tree;
}

static Napi::Object tree_to_js(Napi::Env env, const sx_tree & t) {
    Napi::Object o      = Napi::Object::New(env);
    Napi::Array  tokens = Napi::Array::New(env), parents = Napi::Array::New(env), depths = Napi::Array::New(env),
                scores = Napi::Array::New(env);
    for (int32_t i = 0; i < t.size(); ++i) {
        tokens.Set((uint32_t) i, t.token[i]);
        parents.Set((uint32_t) i, t.parent[i]);
        depths.Set((uint32_t) i, t.depth[i]);
        scores.Set((uint32_t) i, t.score[i]);
    }
    o.Set("tokens", tokens);
    o.Set("parents", parents);
    o.Set("depths", depths);
    o.Set("scores", scores);
    o.Set("leaves", sx_tree_leaf_count(t));
    return o;
}

// growTree(params, table) with table["t1,t2,..."] = [[token, probability], ...] for the node
// reached from the root by that token path ("" is the root).
static Napi::Value grow_tree(const Napi::CallbackInfo & info) {
    Napi::Object      po    = info[0].As<Napi::Object>();
    Napi::Object      table = info[1].As<Napi::Object>();
    sx_tree_params    p;
    const std::string shape = po.Get("shape").ToString().Utf8Value();
    p.shape       = shape == "chain" ? SX_SHAPE_CHAIN : shape == "specinfer" ? SX_SHAPE_SPECINFER : SX_SHAPE_SPECEXEC;
    p.budget      = po.Get("budget").As<Napi::Number>().Int32Value();
    p.max_depth   = po.Has("maxDepth") ? po.Get("maxDepth").As<Napi::Number>().Int32Value() : p.max_depth;
    p.max_beams   = po.Has("maxBeams") ? po.Get("maxBeams").As<Napi::Number>().Int32Value() : p.max_beams;
    p.max_branch  = po.Has("maxBranch") ? po.Get("maxBranch").As<Napi::Number>().Int32Value() : p.max_branch;
    p.max_leaves  = po.Has("maxLeaves") ? po.Get("maxLeaves").As<Napi::Number>().Int32Value() : p.max_leaves;
    p.specinfer_k = po.Has("specinferK") ? po.Get("specinferK").As<Napi::Number>().Int32Value() : p.specinfer_k;
    p.chain_p_min = po.Has("chainPMin") ? po.Get("chainPMin").As<Napi::Number>().FloatValue() : p.chain_p_min;

    std::map<std::string, sx_candidates> probs;
    Napi::Array                          keys = table.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
        const std::string key  = keys.Get(i).ToString().Utf8Value();
        Napi::Array       rows = table.Get(key).As<Napi::Array>();
        sx_candidates     c;
        for (uint32_t j = 0; j < rows.Length(); ++j) {
            Napi::Array r = rows.Get(j).As<Napi::Array>();
            c.push_back(
                { r.Get(0u).As<Napi::Number>().Int32Value(), std::log(r.Get(1u).As<Napi::Number>().FloatValue()) });
        }
        std::stable_sort(c.begin(), c.end(), [](const auto & a, const auto & b) { return a.second > b.second; });
        probs[key] = c;
    }
    Napi::Array calls  = Napi::Array::New(info.Env());
    auto        expand = [&](const sx_tree & t, const std::vector<int32_t> & nodes, int32_t top_n,
                      std::vector<sx_candidates> & out) {
        Napi::Array batch = Napi::Array::New(info.Env());
        out.assign(nodes.size(), {});
        for (size_t k = 0; k < nodes.size(); ++k) {
            std::vector<llama_token> path;
            for (int32_t n = nodes[k]; n > 0; n = t.parent[n]) {
                path.insert(path.begin(), t.token[n]);
            }
            std::string key;
            for (size_t i = 0; i < path.size(); ++i) {
                key += (i ? "," : "") + std::to_string(path[i]);
            }
            batch.Set((uint32_t) k, key);
            const sx_candidates & c = probs[key];
            out[k].assign(c.begin(), c.begin() + std::min<size_t>(top_n, c.size()));
        }
        calls.Set(calls.Length(), batch);
        return true;
    };
    sx_tree tree;
    sx_tree_init(tree, 0);
    const int32_t passes = sx_tree_grow(tree, p, expand);
    Napi::Object  o      = tree_to_js(info.Env(), tree);
    o.Set("passes", passes);
    o.Set("expanded", calls);
    return o;
}

// walk(tree {tokens, parents}, draws {node: token}) -> {accepted: node[], bonus}
static Napi::Value walk(const Napi::CallbackInfo & info) {
    const sx_tree tree  = tree_from_js(info[0].As<Napi::Object>());
    Napi::Object  draws = info[1].As<Napi::Object>();
    llama_token   bonus = LLAMA_TOKEN_NULL;
    const auto    path  = sx_tree_walk(
            tree, sx_tree_children(tree),
            [&](int32_t node) { return draws.Get(std::to_string(node)).As<Napi::Number>().Int32Value(); }, &bonus);
    Napi::Object o        = Napi::Object::New(info.Env());
    Napi::Array  accepted = Napi::Array::New(info.Env(), path.size());
    for (size_t i = 0; i < path.size(); ++i) {
        accepted.Set((uint32_t) i, path[i]);
    }
    o.Set("accepted", accepted);
    o.Set("bonus", bonus);
    return o;
}

// verifyTreeLogits(path, history, tree {tokens, parents}, threads) -> {maxAbsDiff, argmaxMismatches, nodes}:
// the engine's one-pass tree verification against evaluating each root-to-node path on its own.
static Napi::Value verify_tree_logits(const Napi::CallbackInfo & info) {
    const std::string              path    = info[0].As<Napi::String>().Utf8Value();
    const std::vector<llama_token> history = tokens_from_js(info[1]);
    const sx_tree                  tree    = tree_from_js(info[2].As<Napi::Object>());
    const int32_t                  threads = info[3].As<Napi::Number>().Int32Value();
    sx_pass_signals                signals;  // never cancelled
    sx_side                        side;
    double                         max_diff   = 0;
    int32_t                        mismatches = 0;
    try {
        sx_side_init(side, path, { 2048, 1024, SPECEXEC_MAX_SEQ, threads, 0 }, &signals);
        sx_side_sync_history(side, history);
        std::vector<std::vector<int32_t>> seqs;
        sx_verify_tree(side, {}, tree, seqs);
        const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(side.model));
        for (int32_t i = 0; i < tree.size(); ++i) {
            std::vector<llama_token> seq = history;
            std::vector<llama_token> p;
            for (int32_t n = i; n >= 0; n = tree.parent[n]) {
                p.insert(p.begin(), tree.token[n]);
            }
            seq.insert(seq.end(), p.begin(), p.end());
            const std::vector<float> ref  = sx_eval_logits(path, seq, threads);
            const float *            got  = llama_get_logits_ith(side.ctx, i);
            const float *            want = ref.data() + (seq.size() - 1) * n_vocab;
            for (int32_t v = 0; v < n_vocab; ++v) {
                max_diff = std::max(max_diff, (double) std::fabs(got[v] - want[v]));
            }
            mismatches += sx_argmax(got, n_vocab) != sx_argmax(want, n_vocab);
        }
    } catch (const sx_error & e) {
        sx_side_free(side);
        throw error_to_js(info.Env(), e.code, e.what());
    }
    sx_side_free(side);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("maxAbsDiff", max_diff);
    o.Set("argmaxMismatches", mismatches);
    o.Set("nodes", tree.size());
    return o;
}

static std::vector<int32_t> ints_from_js(const Napi::Value & v) {
    std::vector<int32_t> out;
    Napi::Array          a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
        out.push_back(a.Get(i).As<Napi::Number>().Int32Value());
    }
    return out;
}

// budgetLearner({draft: CostPoint[], target: CostPoint[], maxBudget}) -> the automatic budget's state
// for given forward-pass cost curves, driven round by round as the engine drives it:
//   choose(limit) -> budget; observe({budget, tokensWithin, otherMs, targetMs, treeNodes});
//   rates() -> {budget, tokensPerMs}[]; catchUpPays(budget, staleTokens, remaining) -> bool;
//   candidates -> number[]
static Napi::Value budget_learner(const Napi::CallbackInfo & info) {
    Napi::Env                  env = info.Env();
    Napi::Object               o   = info[0].As<Napi::Object>();
    std::shared_ptr<sx_budget> b   = std::make_shared<sx_budget>();
    sx_budget_init(*b, o.Get("maxBudget").As<Napi::Number>().Int32Value());
    b->draft  = curve_from_js(o.Get("draft"));
    b->target = curve_from_js(o.Get("target"));

    Napi::Object out        = Napi::Object::New(env);
    Napi::Array  candidates = Napi::Array::New(env);
    for (int32_t k : b->candidates) {
        candidates.Set(candidates.Length(), k);
    }
    out.Set("candidates", candidates);
    out.Set("choose", Napi::Function::New(env, [b](const Napi::CallbackInfo & i) -> Napi::Value {
                return Napi::Number::New(i.Env(), sx_budget_choose(*b, i[0].As<Napi::Number>().Int32Value()));
            }));
    out.Set("observe", Napi::Function::New(env, [b](const Napi::CallbackInfo & i) {
                Napi::Object r = i[0].As<Napi::Object>();
                sx_budget_observe(*b, r.Get("budget").As<Napi::Number>().Int32Value(),
                                  ints_from_js(r.Get("tokensWithin")),
                                  r.Get("otherMs").As<Napi::Number>().DoubleValue(),
                                  r.Get("targetMs").As<Napi::Number>().DoubleValue(),
                                  r.Get("treeNodes").As<Napi::Number>().Int32Value());
            }));
    out.Set("rates", Napi::Function::New(env, [b](const Napi::CallbackInfo & i) -> Napi::Value {
                Napi::Array rates = Napi::Array::New(i.Env());
                for (int32_t k : b->candidates) {
                    Napi::Object r = Napi::Object::New(i.Env());
                    r.Set("budget", k);
                    r.Set("tokensPerMs", sx_budget_expected_tokens(*b, k) / sx_budget_expected_ms(*b, k));
                    rates.Set(rates.Length(), r);
                }
                return rates;
            }));
    out.Set("catchUpPays", Napi::Function::New(env, [b](const Napi::CallbackInfo & i) -> Napi::Value {
                return Napi::Boolean::New(i.Env(), sx_budget_catch_up_pays(*b, i[0].As<Napi::Number>().Int32Value(),
                                                                           i[1].As<Napi::Number>().Int32Value(),
                                                                           i[2].As<Napi::Number>().Int32Value()));
            }));
    return out;
}

// tokensWithin(tree, accepted: number[], budgets: number[]) -> number[] (sx_tree_tokens_within)
static Napi::Value tokens_within(const Napi::CallbackInfo & info) {
    const sx_tree        tree   = tree_from_js(info[0].As<Napi::Object>());
    std::vector<int32_t> tokens = sx_tree_tokens_within(tree, ints_from_js(info[1]), ints_from_js(info[2]));
    Napi::Array          out    = Napi::Array::New(info.Env());
    for (int32_t t : tokens) {
        out.Set(out.Length(), t);
    }
    return out;
}

static sx_offload_sizes sizes_from_js(const Napi::Object & o) {
    sx_offload_sizes s;
    Napi::Array      layers = o.Get("layerBytes").As<Napi::Array>();
    for (uint32_t i = 0; i < layers.Length(); ++i) {
        s.layer_bytes.push_back((uint64_t) layers.Get(i).As<Napi::Number>().Int64Value());
    }
    s.output_bytes   = (uint64_t) o.Get("outputBytes").As<Napi::Number>().Int64Value();
    s.kv_layer_bytes = (uint64_t) o.Get("kvLayerBytes").As<Napi::Number>().Int64Value();
    s.compute_bytes  = (uint64_t) o.Get("computeBytes").As<Napi::Number>().Int64Value();
    return s;
}

static Napi::Object sizes_to_js(Napi::Env env, const sx_offload_sizes & s) {
    Napi::Object o      = Napi::Object::New(env);
    Napi::Array  layers = Napi::Array::New(env, s.layer_bytes.size());
    for (size_t i = 0; i < s.layer_bytes.size(); ++i) {
        layers.Set((uint32_t) i, (double) s.layer_bytes[i]);
    }
    o.Set("layerBytes", layers);
    o.Set("outputBytes", (double) s.output_bytes);
    o.Set("kvLayerBytes", (double) s.kv_layer_bytes);
    o.Set("computeBytes", (double) s.compute_bytes);
    return o;
}

// offloadSizes(path, nCtx, nUbatch) -> sizes: what a model puts on a GPU, from its GGUF tensor table
static Napi::Value offload_sizes(const Napi::CallbackInfo & info) {
    try {
        return sizes_to_js(
            info.Env(), sx_offload_read(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                                        info[2].As<Napi::Number>().Int32Value()));
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

// offloadChoose(draft sizes | null, target sizes, budgetBytes) -> {draftLayers, targetLayers, draftBytes, targetBytes}
static Napi::Value offload_choose(const Napi::CallbackInfo & info) {
    const bool              has_draft = info[0].IsObject();
    const sx_offload_sizes  draft     = has_draft ? sizes_from_js(info[0].As<Napi::Object>()) : sx_offload_sizes();
    const sx_offload_sizes  target    = sizes_from_js(info[1].As<Napi::Object>());
    const sx_offload_choice c =
        sx_offload_choose(has_draft ? &draft : nullptr, target, (uint64_t) info[2].As<Napi::Number>().Int64Value());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("draftLayers", c.draft_layers);
    o.Set("targetLayers", c.target_layers);
    o.Set("draftBytes", (double) c.draft_bytes);
    o.Set("targetBytes", (double) c.target_bytes);
    return o;
}

static int32_t threads_arg(const Napi::CallbackInfo & info, size_t i) {
    return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : 2;
}

// evalLogits(path, tokens: Uint32Array, threads) -> Float32Array (n_tokens * n_vocab); synchronous
static Napi::Value eval_logits(const Napi::CallbackInfo & info) {
    try {
        std::vector<float> l =
            sx_eval_logits(info[0].As<Napi::String>().Utf8Value(), tokens_from_js(info[1]), threads_arg(info, 2));
        Napi::Float32Array out = Napi::Float32Array::New(info.Env(), l.size());
        std::copy(l.begin(), l.end(), out.Data());
        return out;
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

// referenceGreedy(path, prompt: string | {prefix, suffix}, nTokens, threads) -> Uint32Array; synchronous
static Napi::Value reference_greedy(const Napi::CallbackInfo & info) {
    try {
        std::vector<llama_token> t =
            sx_reference_greedy(info[0].As<Napi::String>().Utf8Value(), prompt_from_js(info[1]),
                                info[2].As<Napi::Number>().Int32Value(), threads_arg(info, 3));
        Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), t.size());
        for (size_t i = 0; i < t.size(); ++i) {
            out[i] = (uint32_t) t[i];
        }
        return out;
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

// nextLogits(engine, tokens) -> Float32Array: the target's next-token logits from the engine's own
// KV cache (reusing whatever prefix it holds); synchronous (the test models are small)
static Napi::Value next_logits(const Napi::CallbackInfo & info) {
    EngineWrap * w = EngineWrap::Unwrap(info[0].As<Napi::Object>());
    if (!w->engine || w->busy) {
        throw error_to_js(info.Env(), w->busy ? SX_ERR_BUSY : SX_ERR_NOT_INITIALIZED,
                          "nextLogits needs a loaded, idle engine");
    }
    try {
        const std::vector<float> l   = sx_testing_next_logits(w->engine.get(), tokens_from_js(info[1]));
        Napi::Float32Array       out = Napi::Float32Array::New(info.Env(), l.size());
        std::copy(l.begin(), l.end(), out.Data());
        return out;
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

void sx_testing_exports(Napi::Env env, Napi::Object exports) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("growTree", Napi::Function::New(env, grow_tree));
    o.Set("walk", Napi::Function::New(env, walk));
    o.Set("verifyTreeLogits", Napi::Function::New(env, verify_tree_logits));
    o.Set("budgetLearner", Napi::Function::New(env, budget_learner));
    o.Set("tokensWithin", Napi::Function::New(env, tokens_within));
    o.Set("offloadSizes", Napi::Function::New(env, offload_sizes));
    o.Set("offloadChoose", Napi::Function::New(env, offload_choose));
    o.Set("nextLogits", Napi::Function::New(env, next_logits));
    exports.Set("testing", o);
    exports.Set("evalLogits", Napi::Function::New(env, eval_logits));
    exports.Set("referenceGreedy", Napi::Function::New(env, reference_greedy));
}
