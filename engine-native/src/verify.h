// One-pass verification of a draft tree by the target, and the KV clean-up after acceptance.
#pragma once

#include "side.h"
#include "tree.h"

#include <vector>

// Decodes `unread` history tokens (in every leaf's sequence), then root + tree, in one target pass
// (leaf sequence ids, pos = root_pos + depth). The rest of the history must be in the target's
// cache; `unread` joins it. Logits row unread.size() + i belongs to node i.
void sx_verify_tree(sx_side &                           target,
                    const std::vector<llama_token> &    unread,
                    const sx_tree &                     tree,
                    std::vector<std::vector<int32_t>> & leaf_seqs);

// Keeps the root and the accepted nodes as history in every history sequence; frees all other tree
// cells. `accepted` are node indices along the path, in order.
void sx_verify_accept(sx_side &                                 target,
                      const sx_tree &                           tree,
                      const std::vector<std::vector<int32_t>> & leaf_seqs,
                      const std::vector<int32_t> &              accepted);
