#include "tree.h"

#include <algorithm>
#include <numeric>

void sx_tree_init(sx_tree & tree, llama_token root) {
    tree = sx_tree();
    tree.add(root, -1, 0.0f);
}

int32_t sx_tree::add(llama_token t, int32_t parent_index, float node_score) {
    token.push_back(t);
    parent.push_back(parent_index);
    depth.push_back(parent_index < 0 ? 0 : depth[parent_index] + 1);
    score.push_back(node_score);
    expanded.push_back(0);
    origin.push_back(size() - 1);
    return size() - 1;
}

std::vector<std::vector<int32_t>> sx_tree_children(const sx_tree & tree) {
    std::vector<std::vector<int32_t>> children(tree.size());
    for (int32_t i = 1; i < tree.size(); ++i) {
        children[tree.parent[i]].push_back(i);
    }
    return children;
}

int32_t sx_tree_leaf_count(const sx_tree & tree) {
    std::vector<uint8_t> has_child(tree.size(), 0);
    for (int32_t i = 1; i < tree.size(); ++i) {
        has_child[tree.parent[i]] = 1;
    }
    return (int32_t) std::count(has_child.begin(), has_child.end(), 0);
}

int32_t sx_tree_max_depth(const sx_tree & tree) {
    return tree.depth.empty() ? 0 : *std::max_element(tree.depth.begin(), tree.depth.end());
}

// Non-root nodes, best score first (ties: lower index first).
static std::vector<int32_t> nodes_by_score(const sx_tree & tree) {
    std::vector<int32_t> order(tree.size() > 0 ? tree.size() - 1 : 0);
    std::iota(order.begin(), order.end(), 1);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return tree.score[a] > tree.score[b]; });
    return order;
}

std::vector<int32_t> sx_tree_tokens_within(const sx_tree &              tree,
                                           const std::vector<int32_t> & accepted,
                                           const std::vector<int32_t> & budgets) {
    std::vector<int32_t>       rank(tree.size(), 0);
    const std::vector<int32_t> order = nodes_by_score(tree);
    for (size_t r = 0; r < order.size(); ++r) {
        rank[order[r]] = (int32_t) r;
    }
    std::vector<int32_t> tokens;
    for (int32_t budget : budgets) {
        int32_t n = 0;
        while (n < (int32_t) accepted.size() && rank[accepted[n]] < budget) {
            n++;
        }
        tokens.push_back(n + 1);  // the target's own token after the accepted ones
    }
    return tokens;
}

sx_tree sx_tree_trim(const sx_tree & tree, int32_t budget, int32_t max_leaves) {
    const std::vector<int32_t> order = nodes_by_score(tree);

    std::vector<uint8_t> keep(tree.size(), 0);
    std::vector<uint8_t> has_kept_child(tree.size(), 0);
    keep[0]        = 1;
    int32_t n_kept = 0;
    int32_t leaves = 1;  // the root alone is a leaf
    for (int32_t i : order) {
        if (n_kept >= budget) {
            break;
        }
        const int32_t p = tree.parent[i];
        if (!keep[p]) {
            continue;  // an ancestor was dropped for the leaf limit
        }
        // a child of a current leaf replaces it as a leaf; a further sibling adds one
        const int32_t new_leaves = has_kept_child[p] ? leaves + 1 : leaves;
        if (new_leaves > max_leaves) {
            continue;
        }
        keep[i]           = 1;
        has_kept_child[p] = 1;
        leaves            = new_leaves;
        n_kept++;
    }

    sx_tree              out;
    std::vector<int32_t> remap(tree.size(), -1);
    for (int32_t i = 0; i < tree.size(); ++i) {
        if (keep[i]) {
            remap[i]            = out.add(tree.token[i], i == 0 ? -1 : remap[tree.parent[i]], tree.score[i]);
            out.expanded.back() = tree.expanded[i];
            out.origin.back()   = tree.origin[i];
        }
    }
    return out;
}

std::vector<std::vector<int32_t>> sx_tree_leaf_seqs(const sx_tree & tree, int32_t * n_leaves) {
    const auto                        children = sx_tree_children(tree);
    std::vector<std::vector<int32_t>> seqs(tree.size());
    // leaves numbered in node order; then every node inherits its children's ids (children
    // follow their parents, so a reverse pass sees all of a node's descendants first)
    int32_t                           next = 0;
    for (int32_t i = 0; i < tree.size(); ++i) {
        if (children[i].empty()) {
            seqs[i].push_back(next++);
        }
    }
    for (int32_t i = tree.size() - 1; i > 0; --i) {
        auto & dst = seqs[tree.parent[i]];
        dst.insert(dst.end(), seqs[i].begin(), seqs[i].end());
    }
    for (auto & s : seqs) {
        std::sort(s.begin(), s.end());
    }
    *n_leaves = next;
    return seqs;
}
