// Growing draft trees: SpecExec's batched best-first search, a SpecInfer-shaped tree (top-k children
// level by level) and a greedy chain (llama.cpp's speculative-simple). The draft model is reached
// only through an expand callback, so the same code runs on a fake model in the golden tests.
#pragma once

#include "tree.h"

#include <functional>
#include <utility>
#include <vector>

enum sx_tree_shape {
    SX_SHAPE_SPECEXEC,
    SX_SHAPE_SPECINFER,
    SX_SHAPE_CHAIN,
};

// Nodes a specexec draft pass expands at most: also the draft's batch.
const int32_t SX_MAX_BEAMS = 128;

struct sx_tree_params {
    sx_tree_shape shape       = SX_SHAPE_SPECEXEC;
    int32_t       budget      = 16;  // draft nodes in the final tree (root excluded)
    int32_t       max_depth   = 32;
    int32_t       max_beams   = SX_MAX_BEAMS;  // specexec: nodes expanded per draft pass
    int32_t       max_branch  = 32;            // specexec: children scored per expanded node
    float         depth_decay = 0.95f;
    int32_t       max_leaves  = 1023;   // sequence ids available for verification
    int32_t       specinfer_k = 2;      // specinfer: children per node
    float         chain_p_min = 0.75f;  // chain: stop drafting below this draft probability
};

// A node's best children from the draft: (token, log-probability), best first.
using sx_candidates = std::vector<std::pair<llama_token, float>>;

// Scores the children of `nodes` (all already in the tree) in one draft pass. Returns false when the
// draft cannot take more nodes (sequence ids or context exhausted); the tree then stops growing.
using sx_expand_fn = std::function<
    bool(const sx_tree & tree, const std::vector<int32_t> & nodes, int32_t top_n, std::vector<sx_candidates> & out)>;

// Grows a tree from `tree` (holding just the root) and trims it to the budget and the leaf limit.
// Returns the number of expand calls (draft passes).
int32_t sx_tree_grow(sx_tree & tree, const sx_tree_params & params, const sx_expand_fn & expand);
