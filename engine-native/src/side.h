// One model with its context and a record of what its KV cache holds. Sequence 0 (and, on the
// target, sequences 1..n_hist_seqs-1) always hold the same history: the accepted tokens.
#pragma once

#include "llama.h"

#include <atomic>
#include <string>
#include <vector>

// What the engine shares with llama.cpp's abort callback, which llama.cpp polls between the graph
// nodes of a CPU pass: a request to stop, and a count of the polls and passes (a sign of life for
// a watchdog on another thread: it stops only when the engine is stuck).
struct sx_pass_signals {
    std::atomic<bool>     cancel{ false };         // the generation
    std::atomic<bool>     cancel_nested{ false };  // the generation nested in it (sx_engine_generate_nested)
    std::atomic<bool>     nested{ false };         // a nested generation runs now
    std::atomic<uint64_t> heartbeat{ 0 };
};

// Whether the generation computing now was asked to stop.
inline bool sx_cancel_requested(const sx_pass_signals & signals) {
    return (signals.nested.load() ? signals.cancel_nested : signals.cancel).load();
}

struct sx_side {
    std::string              path;
    sx_pass_signals *        signals = nullptr;  // the engine's
    llama_model *            model   = nullptr;
    llama_context *          ctx     = nullptr;
    std::vector<llama_token> cached;            // tokens whose KV is in the history sequences, in order
    int32_t                  n_hist_seqs  = 1;  // sequences 0..n-1 all hold the history
    int32_t                  n_seq_max    = 1;
    int32_t                  n_batch      = 0;
    int32_t                  n_gpu_layers = 0;  // layers on a GPU (llama.cpp's count: the output head is one)
    int32_t                  passes       = 0;  // forward passes, for stats
};

// A llama_batch that frees itself, filled token by token.
struct sx_batch {
    llama_batch batch;

    sx_batch(int32_t n_tokens, int32_t n_seq_max) : batch(llama_batch_init(n_tokens, 0, n_seq_max)) {}

    ~sx_batch() { llama_batch_free(batch); }

    sx_batch(const sx_batch &)             = delete;
    sx_batch & operator=(const sx_batch &) = delete;

    void add(llama_token token, llama_pos pos, const int32_t * seqs, int32_t n_seqs, bool logits) {
        const int32_t i   = batch.n_tokens++;
        batch.token[i]    = token;
        batch.pos[i]      = pos;
        batch.n_seq_id[i] = n_seqs;
        for (int32_t s = 0; s < n_seqs; ++s) {
            batch.seq_id[i][s] = seqs[s];
        }
        batch.logits[i] = logits;
    }

    void add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) { add(token, pos, &seq, 1, logits); }
};

struct sx_side_params {
    int32_t           n_ctx;
    int32_t           n_batch;  // also n_ubatch: a whole tree in one physical pass
    int32_t           n_seq_max;
    int32_t           threads;
    ggml_threadpool_t threadpool;    // the engine's, shared by both models (they never run at once)
    int32_t           n_gpu_layers;  // -1: all
};

// Loads the model and creates its context (tree-capable: unified KV). Throws sx_error.
void sx_side_init(sx_side & side, const std::string & path, const sx_side_params & params, sx_pass_signals * signals);
void sx_side_free(sx_side & side);

// Forgets all KV state (after a failed decode, whose effects are unknown).
void sx_side_reset(sx_side & side);

// Drops every cell that is not the history: tree cells, and sequences beyond the history copies
// (after an aborted pass, or a generation cancelled mid-round). The history stays for the next
// request.
void sx_side_drop_uncommitted(sx_side & side);

// A side's history kept aside while another generation uses the side: sequence 0's KV cells byte
// for byte, and their tokens. Put back, the interrupted generation computes on exactly the cache
// it had (a re-prefill would cost a pass over the whole history and round differently).
struct sx_side_snapshot {
    std::vector<uint8_t>     kv;
    std::vector<llama_token> cached;
};

void sx_side_snapshot_take(sx_side & side, sx_side_snapshot & snapshot);
// Replaces whatever the side holds with the snapshot. Throws sx_error.
void sx_side_snapshot_restore(sx_side & side, const sx_side_snapshot & snapshot);

// Makes the history exactly `tokens`, reusing the longest cached prefix. Extra history sequences
// are dropped when new tokens are decoded (they only hold the old history).
void sx_side_sync_history(sx_side & side, const std::vector<llama_token> & tokens);

// Like sync_history, but always decodes at least the last token so that its logits are current
// (read them with llama_get_logits_ith(ctx, -1)).
void                     sx_side_sync_prompt(sx_side & side, const std::vector<llama_token> & tokens);
// Keeps the longest cached prefix of `tokens` but its last token and returns the tokens after it
// but the last: what the side has yet to read before the last token (a tree's root) is decoded.
std::vector<llama_token> sx_side_unread(sx_side & side, const std::vector<llama_token> & tokens);
// How many tokens sync_prompt(tokens) would decode.
int32_t                  sx_side_tokens_to_sync(const sx_side & side, const std::vector<llama_token> & tokens);

// Decodes tokens at the end of the history (sequence 0 only); logits for the last one.
void sx_side_decode(sx_side & side, const llama_token * tokens, int32_t n);

// Makes exactly sequences 0..n-1 hold the history (copies of sequence 0): a tree needs one per
// leaf, and a plain decode one, so that accepting its tokens copies nothing.
void sx_side_set_history_seqs(sx_side & side, int32_t n);

// Decodes `batch`; throws sx_error on failure (the side reset) or when the pass was aborted by a
// cancel (the side's history kept, the batch's cells dropped).
void sx_side_decode_batch(sx_side & side, const sx_batch & batch);

int32_t sx_side_free_cells(const sx_side & side);

// Where the side computes, for keys of cached timings: "cpu", or the GPU devices and the layers on
// them (with op_offload a GPU build runs large batches on the GPU even with no layers there).
std::string sx_side_placement(const sx_side & side);
