// The draft token tree as flat arrays (SpecExec's layout): node 0 is the root (the last accepted
// token), parents always precede their children.
#pragma once

#include "llama.h"

#include <cstdint>
#include <vector>

struct sx_tree {
    std::vector<llama_token> token;
    std::vector<int32_t>     parent;    // -1 for the root
    std::vector<int32_t>     depth;     // 0 for the root
    std::vector<float>       score;     // cumulative draft log-probability (with depth decay); root 0
    std::vector<uint8_t>     expanded;  // the draft has scored this node's children
    std::vector<int32_t>     origin;    // index of the node in the tree it was trimmed from

    int32_t size() const { return (int32_t) token.size(); }

    int32_t add(llama_token t, int32_t parent_index, float node_score);
};

void sx_tree_init(sx_tree & tree, llama_token root);

// Children of every node, in node order.
std::vector<std::vector<int32_t>> sx_tree_children(const sx_tree & tree);

int32_t sx_tree_leaf_count(const sx_tree & tree);
int32_t sx_tree_max_depth(const sx_tree & tree);

// Keeps the root and the best `budget` other nodes by score (ties: lower index first) while the
// tree has at most `max_leaves` leaves. Because a child scores below its parent, the result is
// prefix-closed. Node order (parents first) is preserved.
sx_tree sx_tree_trim(const sx_tree & tree, int32_t budget, int32_t max_leaves);

// Tokens a round would have yielded (the bonus token included) had its tree held only its best
// `budgets[i]` nodes by score, the tree a smaller budget grows: the accepted path counts while its
// nodes are among them. One round thus measures every smaller budget too.
std::vector<int32_t>              sx_tree_tokens_within(const sx_tree &              tree,
                                                        const std::vector<int32_t> & accepted,
                                                        const std::vector<int32_t> & budgets);
// Leaf sequence ids for one-pass verification: leaves get 0..L-1; every node lists the ids of all
// leaves below it (itself included when it is a leaf), ascending.
std::vector<std::vector<int32_t>> sx_tree_leaf_seqs(const sx_tree & tree, int32_t * n_leaves);

// The acceptance walk: starting at the root, `draw(node)` gives the target's token at that node;
// step into the child holding that token while there is one. Returns the accepted nodes (root
// excluded) and sets *bonus to the token drawn at the last accepted node. `draw` may return
// LLAMA_TOKEN_NULL to stop the walk early (the caller ended generation).
template <typename Draw>
std::vector<int32_t> sx_tree_walk(const sx_tree &                           tree,
                                  const std::vector<std::vector<int32_t>> & children,
                                  Draw                                      draw,
                                  llama_token *                             bonus) {
    std::vector<int32_t> path;
    int32_t              node = 0;
    for (;;) {
        const llama_token t = draw(node);
        *bonus              = t;
        if (t == LLAMA_TOKEN_NULL) {
            return path;
        }
        int32_t next = -1;
        for (int32_t c : children[node]) {
            if (tree.token[c] == t) {
                next = c;
                break;
            }
        }
        if (next < 0) {
            return path;
        }
        path.push_back(next);
        node = next;
    }
}
