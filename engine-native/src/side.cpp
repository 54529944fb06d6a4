#include "side.h"

#include "errors.h"
#include "model.h"
#include "offload.h"

#include <algorithm>

// llama.cpp polls this during a decode: each poll is a heartbeat, and a cancelled request stops
// inside a long pass.
static bool poll_pass_signals(void * data) {
    sx_pass_signals * signals = (sx_pass_signals *) data;
    signals->heartbeat.fetch_add(1, std::memory_order_relaxed);
    return sx_cancel_requested(*signals);
}

void sx_side_init(sx_side & side, const std::string & path, const sx_side_params & p, sx_pass_signals * signals) {
    side.path               = path;
    side.signals            = signals;
    side.model              = sx_model_load(path, p.n_gpu_layers, false);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = p.n_ctx;
    cp.n_batch              = p.n_batch;
    // one physical batch per tree: weights that stay in RAM cross the bus once per verification
    cp.n_ubatch             = p.n_batch;
    // batches of >= 32 tokens (trees, prompts) run on the GPU even for layers whose weights are in RAM
    cp.op_offload           = true;
    cp.n_seq_max            = p.n_seq_max;
    cp.n_outputs_max        = std::max(p.n_batch, p.n_seq_max);  // llama.cpp reserves outputs for every sequence
    cp.kv_unified           = true;
    cp.n_threads            = p.threads;
    cp.n_threads_batch      = p.threads;
    cp.no_perf              = true;
    // flash attention reorders the attention sums: its noise (~4e-3 on logits) breaks near-ties
    // between a tree pass and token-by-token decoding five times more often than without (~6e-4)
    cp.flash_attn_type      = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    // an F16 cache rounds K and V differently for a tree pass and a single token (~1e-3 on logits),
    // enough to flip near-ties between the target's top two tokens; F32 keeps them apart
    cp.type_k               = GGML_TYPE_F32;
    cp.type_v               = GGML_TYPE_F32;
    cp.abort_callback       = poll_pass_signals;
    cp.abort_callback_data  = signals;
    side.ctx                = llama_init_from_model(side.model, cp);
    if (!side.ctx) {
        // the model loaded: what failed is the memory for this context size (KV cache, compute buffers)
        throw sx_error(SX_ERR_CONTEXT_TOO_LARGE, "cannot create a context of " + std::to_string(p.n_ctx) +
                                                     " tokens for " + path +
                                                     " (not enough memory for it?): lower contextSize or use a "
                                                     "smaller model; llama.cpp's log says which allocation failed");
    }
    llama_attach_threadpool(side.ctx, p.threadpool, p.threadpool);
    // llama.cpp may lower what was asked for (n_batch is capped at n_ctx): keep what it granted,
    // since a batch or sequence id beyond it aborts the process
    side.n_seq_max         = (int32_t) llama_n_seq_max(side.ctx);
    side.n_batch           = (int32_t) std::min(llama_n_batch(side.ctx), llama_n_ubatch(side.ctx));
    const int32_t n_layers = llama_model_n_layer(side.model) + 1;
    side.n_gpu_layers      = !sx_has_gpu() ? 0 : p.n_gpu_layers < 0 ? n_layers : std::min(p.n_gpu_layers, n_layers);
}

void sx_side_free(sx_side & side) {
    if (side.ctx) {
        llama_free(side.ctx);
    }
    if (side.model) {
        sx_model_free(side.model);
    }
    side = sx_side();
}

void sx_side_reset(sx_side & side) {
    llama_memory_clear(llama_get_memory(side.ctx), true);
    side.cached.clear();
    side.n_hist_seqs = 1;
}

void sx_side_drop_uncommitted(sx_side & side) {
    llama_memory_t mem = llama_get_memory(side.ctx);
    llama_memory_seq_rm(mem, -1, (llama_pos) side.cached.size(), -1);
    for (int32_t s = side.n_hist_seqs; s < side.n_seq_max; ++s) {
        llama_memory_seq_rm(mem, s, -1, -1);
    }
}

void sx_side_snapshot_take(sx_side & side, sx_side_snapshot & snapshot) {
    sx_side_set_history_seqs(side, 1);  // the other history copies are rebuilt from sequence 0 when needed
    snapshot.cached = side.cached;
    snapshot.kv.resize(llama_state_seq_get_size(side.ctx, 0));
    if (llama_state_seq_get_data(side.ctx, snapshot.kv.data(), snapshot.kv.size(), 0) != snapshot.kv.size()) {
        throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": cannot copy the KV cache of " + side.path);
    }
}

void sx_side_snapshot_restore(sx_side & side, const sx_side_snapshot & snapshot) {
    sx_side_reset(side);
    if (snapshot.cached.empty()) {
        return;
    }
    if (llama_state_seq_set_data(side.ctx, snapshot.kv.data(), snapshot.kv.size(), 0) == 0) {
        throw sx_error(SX_ERR_DECODE_FAILED, std::string(__func__) + ": cannot restore the KV cache of " + side.path);
    }
    side.cached = snapshot.cached;
}

void sx_side_decode_batch(sx_side & side, const sx_batch & batch) {
    const int rc = llama_decode(side.ctx, batch.batch);
    side.passes++;
    side.signals->heartbeat.fetch_add(1, std::memory_order_relaxed);  // a GPU backend does not poll
    if (rc == 2) {
        // aborted between graph nodes: the batch's cells are the only ones it may have written
        sx_side_drop_uncommitted(side);
        throw sx_error(SX_ERR_DECODE_FAILED, "cancelled");
    }
    if (rc != 0) {
        sx_side_reset(side);  // the cache may hold part of the batch: forget it all rather than guess
        throw sx_error(SX_ERR_DECODE_FAILED,
                       std::string(__func__) + ": llama_decode failed with code " + std::to_string(rc));
    }
}

void sx_side_decode(sx_side & side, const llama_token * tokens, int32_t n) {
    if (n > 0) {
        sx_side_set_history_seqs(side, 1);  // new history goes to sequence 0 only: other copies would be stale
    }
    for (int32_t i = 0; i < n; i += side.n_batch) {
        const int32_t m = std::min(side.n_batch, n - i);
        sx_batch      b(m, 1);
        for (int32_t j = 0; j < m; ++j) {
            b.add(tokens[i + j], (llama_pos) (side.cached.size() + j), 0, i + j == n - 1);
        }
        sx_side_decode_batch(side, b);
        side.cached.insert(side.cached.end(), tokens + i, tokens + i + m);
    }
}

static size_t common_prefix(const std::vector<llama_token> & a, const std::vector<llama_token> & b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) {
        ++n;
    }
    return n;
}

static void truncate_history(sx_side & side, size_t n) {
    if (n < side.cached.size()) {
        llama_memory_seq_rm(llama_get_memory(side.ctx), -1, (llama_pos) n, -1);
        side.cached.resize(n);
    }
}

void sx_side_sync_history(sx_side & side, const std::vector<llama_token> & tokens) {
    const size_t common = common_prefix(side.cached, tokens);
    truncate_history(side, common);
    sx_side_decode(side, tokens.data() + common, (int32_t) (tokens.size() - common));
}

int32_t sx_side_tokens_to_sync(const sx_side & side, const std::vector<llama_token> & tokens) {
    return (int32_t) (tokens.size() - std::min(common_prefix(side.cached, tokens), tokens.size() - 1));
}

// Truncates the history to its common prefix with `tokens`, at most all of them but the last.
static size_t keep_common_prefix(sx_side & side, const std::vector<llama_token> & tokens) {
    const size_t common = std::min(common_prefix(side.cached, tokens), tokens.size() - 1);
    truncate_history(side, common);
    return common;
}

void sx_side_sync_prompt(sx_side & side, const std::vector<llama_token> & tokens) {
    const size_t common = keep_common_prefix(side, tokens);
    sx_side_decode(side, tokens.data() + common, (int32_t) (tokens.size() - common));
}

std::vector<llama_token> sx_side_unread(sx_side & side, const std::vector<llama_token> & tokens) {
    const size_t common = keep_common_prefix(side, tokens);
    return std::vector<llama_token>(tokens.begin() + common, tokens.end() - 1);
}

void sx_side_set_history_seqs(sx_side & side, int32_t n) {
    llama_memory_t mem = llama_get_memory(side.ctx);
    for (int32_t s = side.n_hist_seqs; s < n; ++s) {
        llama_memory_seq_cp(mem, 0, s, -1, -1);
    }
    for (int32_t s = n; s < side.n_hist_seqs; ++s) {
        llama_memory_seq_rm(mem, s, -1, -1);
    }
    side.n_hist_seqs = n;
}

int32_t sx_side_free_cells(const sx_side & side) {
    return (int32_t) llama_n_ctx(side.ctx) - (int32_t) side.cached.size();
}

std::string sx_side_placement(const sx_side & side) {
    std::string gpus;
    for (const sx_device & d : sx_devices()) {
        if (d.type == "gpu" || d.type == "igpu") {
            gpus += d.name + "=" + d.description + ",";
        }
    }
    return gpus.empty() ? "cpu" : gpus + "ngl" + std::to_string(side.n_gpu_layers);
}
