#include "draft_model.h"

#include "errors.h"

#include <algorithm>
#include <cmath>

void sx_draft_round_begin(sx_draft_round & round, sx_side & draft) {
    round.side     = &draft;
    round.root_pos = (llama_pos) draft.cached.size() - 1;
    round.node_seq.assign(1, 0);  // the root is history: sequence 0
    round.next_seq = 1;
}

// The top_n tokens of one row of logits with their log-probabilities, best first. One pass with a
// small min-heap (top_n <= a few dozen) instead of sorting the vocabulary.
static void top_children(const float * logits, int32_t n_vocab, int32_t top_n, sx_candidates & out) {
    top_n      = std::min(top_n, n_vocab);
    auto worse = [&](int32_t a, int32_t b) {
        return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    };
    std::vector<int32_t> heap;  // heap.front() is the worst of the best top_n so far
    heap.reserve(top_n + 1);
    float max_logit = logits[0];
    for (int32_t i = 0; i < n_vocab; ++i) {
        max_logit = std::max(max_logit, logits[i]);
        if ((int32_t) heap.size() < top_n) {
            heap.push_back(i);
            std::push_heap(heap.begin(), heap.end(), worse);
        } else if (worse(i, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), worse);
            heap.back() = i;
            std::push_heap(heap.begin(), heap.end(), worse);
        }
    }
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        sum += std::exp(logits[i] - max_logit);
    }
    const float log_z = max_logit + (float) std::log(sum);
    std::sort_heap(heap.begin(), heap.end(), worse);
    out.clear();
    for (int32_t t : heap) {
        out.push_back({ t, logits[t] - log_z });
    }
}

bool sx_draft_expand(sx_draft_round &             round,
                     const sx_tree &              tree,
                     const std::vector<int32_t> & nodes,
                     int32_t                      top_n,
                     std::vector<sx_candidates> & out) {
    sx_side &     side    = *round.side;
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(side.model));
    round.node_seq.resize(tree.size(), -1);
    out.assign(nodes.size(), {});

    if (nodes.size() == 1 && nodes[0] == 0) {
        // the root's children come from the history pass that decoded it
        top_children(llama_get_logits_ith(side.ctx, -1), n_vocab, top_n, out[0]);
        return true;
    }
    const int32_t n = (int32_t) nodes.size();
    if (round.next_seq + n > side.n_seq_max || n > side.n_batch || n > sx_side_free_cells(side) - round.next_seq) {
        return false;
    }
    llama_memory_t mem = llama_get_memory(side.ctx);
    sx_batch       b(n, 1);
    for (int32_t j = 0; j < n; ++j) {
        const int32_t node = nodes[j];
        const int32_t seq  = round.next_seq++;
        // the node's sequence sees the history and its ancestors, nothing else
        llama_memory_seq_cp(mem, round.node_seq[tree.parent[node]], seq, -1, -1);
        round.node_seq[node] = seq;
        b.add(tree.token[node], round.root_pos + tree.depth[node], seq, true);
    }
    sx_side_decode_batch(side, b);
    for (int32_t j = 0; j < n; ++j) {
        top_children(llama_get_logits_ith(side.ctx, j), n_vocab, top_n, out[j]);
    }
    return true;
}

void sx_draft_round_end(sx_draft_round & round, const sx_tree & tree, const std::vector<int32_t> & accepted) {
    sx_side &      side     = *round.side;
    llama_memory_t mem      = llama_get_memory(side.ctx);
    // the accepted nodes the draft decoded form a prefix of the path
    int32_t        keep_seq = -1;
    size_t         n_keep   = 0;
    for (size_t i = 0; i < accepted.size(); ++i) {
        const int32_t o = tree.origin[accepted[i]];
        if (o >= (int32_t) round.node_seq.size() || round.node_seq[o] < 0) {
            break;
        }
        keep_seq = round.node_seq[o];
        n_keep   = i + 1;
    }
    if (keep_seq > 0) {
        llama_memory_seq_cp(mem, keep_seq, 0, round.root_pos + 1, -1);
        for (size_t i = 0; i < n_keep; ++i) {
            side.cached.push_back(tree.token[accepted[i]]);
        }
    }
    for (int32_t s = 1; s < round.next_seq; ++s) {
        llama_memory_seq_rm(mem, s, -1, -1);
    }
    round.next_seq = 1;
}
