#include "tree_grow.h"

#include <algorithm>
#include <cmath>
#include <queue>

// SpecExec: repeatedly expand the best unexpanded nodes that rank in the top K; a child enters
// only if it ranks in the top K of all nodes. Stops when nothing new can enter or at max_depth.
// Once K nodes are in, a node is expanded only if a child could still beat the K-th best score:
// a child scores at most its parent's score + log(depth_decay), and a draft pass that cannot add
// a node would cost as much as one that does.
static int32_t grow_specexec(sx_tree & tree, const sx_tree_params & p, const sx_expand_fn & expand) {
    const float                                                         log_decay = std::log(p.depth_decay);
    // the K best scores among non-root nodes (min-heap: top() is the K-th best)
    std::priority_queue<float, std::vector<float>, std::greater<float>> best;
    int32_t                                                             passes = 0;
    std::vector<sx_candidates>                                          scored;
    for (int32_t step = 0; step < p.max_depth; ++step) {
        const bool           full      = (int32_t) best.size() >= p.budget;
        const float          threshold = full ? best.top() : -INFINITY;
        std::vector<int32_t> frontier;
        for (int32_t i = 0; i < tree.size(); ++i) {
            if (!tree.expanded[i] && tree.depth[i] < p.max_depth && (i == 0 || tree.score[i] + log_decay > threshold)) {
                frontier.push_back(i);
            }
        }
        std::stable_sort(frontier.begin(), frontier.end(),
                         [&](int32_t a, int32_t b) { return tree.score[a] > tree.score[b]; });
        if (frontier.size() > (size_t) p.max_beams) {
            frontier.resize(p.max_beams);
        }
        if (frontier.empty() || !expand(tree, frontier, p.max_branch, scored)) {
            break;
        }
        passes++;
        bool entered = false;
        for (size_t f = 0; f < frontier.size(); ++f) {
            const int32_t parent  = frontier[f];
            tree.expanded[parent] = 1;
            for (const auto & c : scored[f]) {
                const float s = tree.score[parent] + log_decay + c.second;
                if ((int32_t) best.size() < p.budget) {
                    best.push(s);
                } else if (s > best.top()) {
                    best.pop();
                    best.push(s);
                } else {
                    break;  // candidates are sorted: the rest score lower
                }
                tree.add(c.first, parent, s);
                entered = true;
            }
        }
        if (!entered) {
            break;
        }
    }
    return passes;
}

// SpecInfer-shaped: every node of a level gets its top-k children, best scores first, until the
// budget is spent.
static int32_t grow_specinfer(sx_tree & tree, const sx_tree_params & p, const sx_expand_fn & expand) {
    int32_t                    passes   = 0;
    int32_t                    n_nodes  = 0;
    std::vector<int32_t>       frontier = { 0 };
    std::vector<sx_candidates> scored;
    for (int32_t depth = 0; depth < p.max_depth && n_nodes < p.budget && !frontier.empty(); ++depth) {
        if (!expand(tree, frontier, p.specinfer_k, scored)) {
            break;
        }
        passes++;

        struct child {
            float       score;
            int32_t     parent;
            llama_token token;
        };

        std::vector<child> level;
        for (size_t f = 0; f < frontier.size(); ++f) {
            tree.expanded[frontier[f]] = 1;
            for (const auto & c : scored[f]) {
                level.push_back({ tree.score[frontier[f]] + c.second, frontier[f], c.first });
            }
        }
        std::stable_sort(level.begin(), level.end(),
                         [](const child & a, const child & b) { return a.score > b.score; });
        frontier.clear();
        for (const child & c : level) {
            if (n_nodes >= p.budget) {
                break;
            }
            frontier.push_back(tree.add(c.token, c.parent, c.score));
            n_nodes++;
        }
    }
    return passes;
}

// A greedy chain: the draft's argmax token, one per pass, while its probability is >= p_min.
static int32_t grow_chain(sx_tree & tree, const sx_tree_params & p, const sx_expand_fn & expand) {
    int32_t                    passes = 0;
    int32_t                    last   = 0;
    std::vector<sx_candidates> scored;
    const float                log_p_min = std::log(p.chain_p_min);
    while (tree.size() - 1 < p.budget && tree.depth[last] < p.max_depth) {
        if (!expand(tree, { last }, 1, scored)) {
            break;
        }
        passes++;
        tree.expanded[last] = 1;
        if (scored[0].empty() || scored[0][0].second < log_p_min) {
            break;
        }
        last = tree.add(scored[0][0].first, last, tree.score[last] + scored[0][0].second);
    }
    return passes;
}

int32_t sx_tree_grow(sx_tree & tree, const sx_tree_params & p, const sx_expand_fn & expand) {
    if (p.budget <= 0 || p.max_depth <= 0) {
        return 0;
    }
    int32_t passes = 0;
    switch (p.shape) {
        case SX_SHAPE_SPECEXEC:
            passes = grow_specexec(tree, p, expand);
            break;
        case SX_SHAPE_SPECINFER:
            passes = grow_specinfer(tree, p, expand);
            break;
        case SX_SHAPE_CHAIN:
            passes = grow_chain(tree, p, expand);
            break;
    }
    tree = sx_tree_trim(tree, p.budget, p.max_leaves);
    return passes;
}
