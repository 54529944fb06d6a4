#include "verify.h"

#include "errors.h"

void sx_verify_tree(sx_side &                           target,
                    const std::vector<llama_token> &    unread,
                    const sx_tree &                     tree,
                    std::vector<std::vector<int32_t>> & leaf_seqs) {
    int32_t n_leaves = 0;
    leaf_seqs        = sx_tree_leaf_seqs(tree, &n_leaves);
    const int32_t n  = (int32_t) unread.size() + tree.size();
    if (n > target.n_batch || n_leaves > target.n_seq_max || n > sx_side_free_cells(target)) {
        // the tree builder sizes trees to fit; reaching this is a bug, never a llama.cpp abort
        throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": tree of " + std::to_string(n) + " nodes and " +
                                                 std::to_string(n_leaves) + " leaves exceeds the target context");
    }
    sx_side_set_history_seqs(target, n_leaves);
    const llama_pos history_end = (llama_pos) target.cached.size();
    const llama_pos root_pos    = history_end + (llama_pos) unread.size();
    sx_batch        b(n, n_leaves);
    for (size_t i = 0; i < unread.size(); ++i) {
        // the root's sequences are every leaf's
        b.add(unread[i], history_end + (llama_pos) i, leaf_seqs[0].data(), (int32_t) leaf_seqs[0].size(), false);
    }
    for (int32_t i = 0; i < tree.size(); ++i) {
        b.add(tree.token[i], root_pos + tree.depth[i], leaf_seqs[i].data(), (int32_t) leaf_seqs[i].size(), true);
    }
    sx_side_decode_batch(target, b);
    target.cached.insert(target.cached.end(), unread.begin(), unread.end());
}

void sx_verify_accept(sx_side &                                 target,
                      const sx_tree &                           tree,
                      const std::vector<std::vector<int32_t>> & leaf_seqs,
                      const std::vector<int32_t> &              accepted) {
    llama_memory_t  mem      = llama_get_memory(target.ctx);
    const llama_pos root_pos = (llama_pos) target.cached.size();
    const int32_t   last     = accepted.empty() ? 0 : accepted.back();
    const llama_pos end      = root_pos + 1 + (llama_pos) accepted.size();
    // one leaf below the last accepted node holds exactly root + path (+ deeper nodes)
    const int32_t   keep     = leaf_seqs[last][0];
    for (int32_t s = 0; s < target.n_hist_seqs; ++s) {
        if (s != keep) {
            llama_memory_seq_rm(mem, s, root_pos, -1);
        }
    }
    llama_memory_seq_rm(mem, keep, end, -1);
    for (int32_t s = 0; s < target.n_hist_seqs; ++s) {
        if (s != keep) {
            llama_memory_seq_cp(mem, keep, s, root_pos, end);
        }
    }
    target.cached.push_back(tree.token[0]);
    for (int32_t node : accepted) {
        target.cached.push_back(tree.token[node]);
    }
}
