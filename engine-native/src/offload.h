// Where the weights live: the devices llama.cpp sees, and how many layers of each model go to the
// GPU. SpecExec's regime is a target too large for the GPU: its weights stay in RAM and every
// verification streams them over the bus once (op_offload, one physical batch per tree), while the
// small draft, which runs many passes of few tokens, lives on the GPU whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct sx_device {
    std::string name;         // ggml's name, e.g. "Vulkan0", "CPU"
    std::string description;  // e.g. "NVIDIA GeForce RTX 4090", "llvmpipe (LLVM 15.0.6, 256 bits)"
    std::string type;         // "cpu" | "gpu" | "igpu" | "accel" | "meta"
    uint64_t    memory_free  = 0;
    uint64_t    memory_total = 0;
};

// Every device of this build (ggml_backend_dev_*); a CPU build lists the CPU alone.
std::vector<sx_device> sx_devices(void);

// Whether llama.cpp can place layers on a GPU here (a GPU build that found a device).
bool sx_has_gpu(void);

// Bytes that one model puts on the device, read from its GGUF tensor sizes. llama.cpp counts
// n_layer + 1 offloadable layers: the repeating blocks, then the output head, and offloads from the
// top (n_gpu_layers = 1 is the output head alone); the token embeddings always stay in RAM.
struct sx_offload_sizes {
    std::vector<uint64_t> layer_bytes;         // weights of blk.i
    uint64_t              output_bytes   = 0;  // output head and final norm
    uint64_t              kv_layer_bytes = 0;  // F32 K and V of one layer for the whole context
    uint64_t              compute_bytes  = 0;  // scratch of one pass of n_ubatch tokens (estimate)
};

// Reads the tensor sizes of a GGUF file (no weights are loaded). Throws sx_error.
sx_offload_sizes sx_offload_read(const std::string & path, int32_t n_ctx, int32_t n_ubatch);

// llama.cpp's count of offloadable layers: n_layer + 1.
int32_t sx_offload_n_layers(const sx_offload_sizes & s);

// Device bytes with n_gpu_layers offloaded (negative: all). The compute scratch always counts:
// with op_offload, large batches run on the GPU even when no weights live there.
uint64_t sx_offload_device_bytes(const sx_offload_sizes & s, int32_t n_gpu_layers);

// The most layers whose device bytes fit in `budget`; 0 when not even the scratch fits.
int32_t sx_offload_fit(const sx_offload_sizes & s, uint64_t budget);

struct sx_offload_choice {
    int32_t  draft_layers  = 0;
    int32_t  target_layers = 0;
    uint64_t draft_bytes   = 0;
    uint64_t target_bytes  = 0;
};

// GPU layers of each model (llama.cpp's count; -1: all).
struct sx_gpu_layers {
    int32_t draft  = -1;
    int32_t target = -1;
};

// What the engine was asked for. The ubatch sizes are the models' physical batches (they size the
// scratch).
struct sx_offload_request {
    std::string   draft_path;  // empty: no draft
    std::string   target_path;
    int32_t       n_ctx         = 0;
    int32_t       draft_ubatch  = 0;
    int32_t       target_ubatch = 0;
    sx_gpu_layers layers;               // as asked
    int32_t       vram_budget_mib = 0;  // > 0: replaces `layers`
};

// Checks the GPU settings against this build (GPU layers or a VRAM budget on a build without a GPU
// device throw an error that says which build to use) and returns the layer counts to use: those
// asked for, or both fitted to the VRAM budget.
sx_gpu_layers sx_offload_resolve(const sx_offload_request & request);

// Splits a VRAM budget: the target's scratch first (every verification needs it), then the whole
// draft, then as many target layers as still fit. `draft` may be null (no draft model).
sx_offload_choice sx_offload_choose(const sx_offload_sizes * draft, const sx_offload_sizes & target, uint64_t budget);
