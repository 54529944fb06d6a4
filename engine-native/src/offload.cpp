#include "offload.h"

#include "errors.h"
#include "ggml-backend.h"
#include "gguf.h"
#include "gguf_check.h"
#include "llama.h"
#include "model.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

static const char * device_type_name(enum ggml_backend_dev_type t) {
    switch (t) {
        case GGML_BACKEND_DEVICE_TYPE_CPU:
            return "cpu";
        case GGML_BACKEND_DEVICE_TYPE_GPU:
            return "gpu";
        case GGML_BACKEND_DEVICE_TYPE_IGPU:
            return "igpu";
        case GGML_BACKEND_DEVICE_TYPE_ACCEL:
            return "accel";
        default:
            return "meta";
    }
}

std::vector<sx_device> sx_devices(void) {
    sx_backend_init();
    std::vector<sx_device> out;
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        sx_device          d;
        d.name        = ggml_backend_dev_name(dev);
        d.description = ggml_backend_dev_description(dev);
        d.type        = device_type_name(ggml_backend_dev_type(dev));
        size_t free = 0, total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        d.memory_free  = free;
        d.memory_total = total;
        out.push_back(d);
    }
    return out;
}

bool sx_has_gpu(void) {
    for (const sx_device & d : sx_devices()) {
        if (d.type == "gpu" || d.type == "igpu") {
            return true;
        }
    }
    return false;
}

// The tensor tables of a model's files: one, or every shard of a split model (llama.cpp loads them all).
struct offload_tables {
    std::vector<gguf_context *> shards;

    ~offload_tables() {
        for (gguf_context * ctx : shards) {
            gguf_free(ctx);
        }
    }
};

static gguf_context * read_table(const std::string & path) {
    gguf_check_file(path, true);
    gguf_init_params params = { true, nullptr };
    gguf_context *   ctx    = gguf_init_from_file(path.c_str(), params);
    if (!ctx) {
        throw sx_error(SX_ERR_MODEL_INVALID, std::string(__func__) + ": cannot read the tensor table of " + path);
    }
    return ctx;
}

static void read_tables(const std::string & path, offload_tables & t) {
    t.shards.push_back(read_table(path));
    const int64_t id = gguf_find_key(t.shards[0], "split.count");
    const int     count =
        id >= 0 && gguf_get_kv_type(t.shards[0], id) == GGUF_TYPE_UINT16 ? gguf_get_val_u16(t.shards[0], id) : 1;
    if (count <= 1) {
        return;
    }
    char prefix[4096];
    if (llama_split_prefix(prefix, sizeof(prefix), path.c_str(), 0, count) <= 0) {
        throw sx_error(SX_ERR_MODEL_INVALID, std::string(__func__) + ": " + path + " is the first of " +
                                                 std::to_string(count) +
                                                 " split files but not named NAME-00001-of-NNNNN.gguf");
    }
    // split numbers are 0-based here (llama.cpp's source; its header's examples say otherwise)
    for (int i = 1; i < count; ++i) {
        char shard[4096];
        llama_split_path(shard, sizeof(shard), prefix, i, count);
        t.shards.push_back(read_table(shard));
    }
}

// ne[i] of a tensor, 0 when the model has no such tensor
static int64_t tensor_dim(const offload_tables & t, const char * name, int i) {
    for (const gguf_context * ctx : t.shards) {
        const int64_t id = gguf_find_tensor(ctx, name);
        if (id >= 0) {
            return gguf_get_tensor_ne(ctx, id)[i];
        }
    }
    return 0;
}

static uint64_t tensor_bytes(const offload_tables & t, const char * name) {
    for (const gguf_context * ctx : t.shards) {
        const int64_t id = gguf_find_tensor(ctx, name);
        if (id >= 0) {
            return gguf_get_tensor_size(ctx, id);
        }
    }
    return 0;
}

static std::string meta_str(const gguf_context * ctx, const char * key) {
    const int64_t id = gguf_find_key(ctx, key);
    return id >= 0 && gguf_get_kv_type(ctx, id) == GGUF_TYPE_STRING ? gguf_get_val_str(ctx, id) : "";
}

static uint32_t meta_u32(const gguf_context * ctx, const std::string & key, uint32_t fallback) {
    const int64_t id = gguf_find_key(ctx, key.c_str());
    return id >= 0 && gguf_get_kv_type(ctx, id) == GGUF_TYPE_UINT32 ? gguf_get_val_u32(ctx, id) : fallback;
}

static void add_layer_tensors(const offload_tables & t, sx_offload_sizes & s) {
    for (const gguf_context * ctx : t.shards) {
        for (int64_t i = 0; i < gguf_get_n_tensors(ctx); ++i) {
            const char * name = gguf_get_tensor_name(ctx, i);
            if (strncmp(name, "blk.", 4) == 0) {
                const size_t il = (size_t) strtoul(name + 4, nullptr, 10);
                if (il >= s.layer_bytes.size()) {
                    s.layer_bytes.resize(il + 1, 0);
                }
                s.layer_bytes[il] += gguf_get_tensor_size(ctx, i);
            }
        }
    }
    // tied embeddings: llama.cpp places a copy of token_embd on the output layer's device
    const uint64_t head = tensor_bytes(t, "output.weight");
    s.output_bytes = (head > 0 ? head : tensor_bytes(t, "token_embd.weight")) + tensor_bytes(t, "output_norm.weight");
}

// Without flash attention (the engine turns it off for exactness) a pass holds the attention
// scores of every head for the whole context; ggml's allocator reuses memory, so the largest
// intermediate dominates: scores, logits or the feed-forward activations.
static uint64_t compute_estimate(const offload_tables & t, int64_t n_ctx, int64_t n_ubatch) {
    const std::string arch    = meta_str(t.shards[0], "general.architecture");
    const int64_t     n_embd  = tensor_dim(t, "token_embd.weight", 0);
    const int64_t     n_vocab = tensor_dim(t, "token_embd.weight", 1);
    const int64_t     n_ff    = tensor_dim(t, "blk.0.ffn_up.weight", 1);
    const int64_t     n_head  = meta_u32(t.shards[0], arch + ".attention.head_count", 1);
    const int64_t     widest  = std::max({ n_vocab, n_head * n_ctx, 2 * n_ff });
    return (uint64_t) (sizeof(float) * n_ubatch * (widest + 4 * n_embd));
}

sx_offload_sizes sx_offload_read(const std::string & path, int32_t n_ctx, int32_t n_ubatch) {
    offload_tables t;
    read_tables(path, t);
    sx_offload_sizes s;
    add_layer_tensors(t, s);
    const int64_t n_embd_kv = tensor_dim(t, "blk.0.attn_k.weight", 1) + tensor_dim(t, "blk.0.attn_v.weight", 1);
    s.kv_layer_bytes        = sizeof(float) * (uint64_t) n_ctx * n_embd_kv;
    s.compute_bytes         = compute_estimate(t, n_ctx, n_ubatch);
    return s;
}

int32_t sx_offload_n_layers(const sx_offload_sizes & s) {
    return (int32_t) s.layer_bytes.size() + 1;
}

uint64_t sx_offload_device_bytes(const sx_offload_sizes & s, int32_t n_gpu_layers) {
    const int32_t n_layer = (int32_t) s.layer_bytes.size();
    const int32_t k       = n_gpu_layers < 0 ? n_layer + 1 : std::min(n_gpu_layers, n_layer + 1);
    uint64_t      bytes   = s.compute_bytes + (k > 0 ? s.output_bytes : 0);
    // layers n_layer + 1 - k .. n_layer - 1 (as llama.cpp's i_gpu_start)
    for (int32_t il = std::max(n_layer + 1 - k, 0); il < n_layer; ++il) {
        bytes += s.layer_bytes[il] + s.kv_layer_bytes;
    }
    return bytes;
}

int32_t sx_offload_fit(const sx_offload_sizes & s, uint64_t budget) {
    int32_t k = 0;
    while (k < sx_offload_n_layers(s) && sx_offload_device_bytes(s, k + 1) <= budget) {
        ++k;
    }
    return k;
}

static uint64_t minus(uint64_t a, uint64_t b) {
    return a > b ? a - b : 0;
}

sx_offload_choice sx_offload_choose(const sx_offload_sizes * draft, const sx_offload_sizes & target, uint64_t budget) {
    sx_offload_choice c;
    if (draft) {
        c.draft_layers = sx_offload_fit(*draft, minus(budget, target.compute_bytes));
        c.draft_bytes  = sx_offload_device_bytes(*draft, c.draft_layers);
    }
    c.target_layers = sx_offload_fit(target, minus(budget, c.draft_bytes));
    c.target_bytes  = sx_offload_device_bytes(target, c.target_layers);
    return c;
}

static const uint64_t MIB = 1024 * 1024;

static void require_gpu(const sx_offload_request & r) {
    const bool wants_gpu = r.vram_budget_mib > 0 || r.layers.target > 0 || r.layers.draft > 0;
    if (!wants_gpu || sx_has_gpu()) {
        return;
    }
    std::string names;
    for (const sx_device & d : sx_devices()) {
        names += (names.empty() ? "" : ", ") + d.name;
    }
    throw sx_error(
        SX_ERR_INVALID_PARAMS,
        "GPU layers or a VRAM budget were requested, but this engine build sees no GPU (devices: " + names +
            "). Build a GPU variant (SPECEXEC_BACKEND=vulkan npm run build, or cuda, metal) and start the engine "
            "with SPECEXEC_NATIVE_BUILD=build-vulkan (build-cuda, build-metal); or set the GPU layers to 0 and no "
            "VRAM budget. Mesa's software Vulkan device (lavapipe) is only used with GGML_VK_VISIBLE_DEVICES=0.");
}

sx_gpu_layers sx_offload_resolve(const sx_offload_request & r) {
    require_gpu(r);
    if (r.vram_budget_mib <= 0) {
        return r.layers;
    }
    const sx_offload_sizes target = sx_offload_read(r.target_path, r.n_ctx, r.target_ubatch);
    sx_offload_sizes       draft;
    if (!r.draft_path.empty()) {
        draft = sx_offload_read(r.draft_path, r.n_ctx, r.draft_ubatch);
    }
    const sx_offload_choice c =
        sx_offload_choose(r.draft_path.empty() ? nullptr : &draft, target, (uint64_t) r.vram_budget_mib * MIB);
    sx_gpu_layers layers;
    layers.draft  = c.draft_layers;
    layers.target = c.target_layers;
    return layers;
}
