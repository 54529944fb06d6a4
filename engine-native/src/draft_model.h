// The draft model behind the tree builders: decodes a batch of tree nodes with a tree mask
// (one sequence per decoded node, holding the history and the node's ancestors) and returns
// each node's best children. Node 0 (the root) is already decoded as history.
#pragma once

#include "side.h"
#include "tree.h"
#include "tree_grow.h"

struct sx_draft_round {
    sx_side *            side     = nullptr;
    llama_pos            root_pos = 0;
    std::vector<int32_t> node_seq;  // per tree node: its sequence, -1 if not decoded
    int32_t              next_seq = 1;
};

void sx_draft_round_begin(sx_draft_round & round, sx_side & draft);

// The expand callback for sx_tree_grow.
bool sx_draft_expand(sx_draft_round &             round,
                     const sx_tree &              tree,
                     const std::vector<int32_t> & nodes,
                     int32_t                      top_n,
                     std::vector<sx_candidates> & out);

// After verification: keeps the accepted nodes the draft has decoded as history (sequence 0) and
// drops every other tree cell. `tree` is the trimmed tree, `accepted` its accepted nodes in order.
void sx_draft_round_end(sx_draft_round & round, const sx_tree & tree, const std::vector<int32_t> & accepted);
