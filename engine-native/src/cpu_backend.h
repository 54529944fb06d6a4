// Which CPU kernels this process runs. The portable build ships ggml's CPU backend once per
// instruction-set level (libggml-cpu-<variant>.so beside the addon) and loads, at run time, the best
// one this CPU can execute, so one package runs on every x86-64 and ARM CPU. The native build has
// one set of kernels, compiled in with -march=native.
#pragma once

#include "ggml.h"

#include <string>
#include <vector>

struct sx_cpu_variant {
    std::string name;   // e.g. "haswell", "sapphirerapids"
    int         score;  // ggml_backend_score: 0 = this CPU cannot run it, higher = faster
};

struct sx_cpu_report {
    std::string                 variant;        // in use; "native" in a native build
    std::vector<std::string>    features_seen;  // what the CPU and OS report (cpuid, xgetbv, hwcap)
    std::vector<std::string>    features_used;  // what the variant was compiled for
    std::vector<sx_cpu_variant> variants;       // every variant of the build, scored for this CPU
};

// The folder of the backend modules (the addon's own); set before the first sx_backend_init.
void sx_backend_set_module_dir(const std::string & dir);

// Loads the CPU variant ($SPECEXEC_CPU_VARIANT, else the best scored) and any GPU backend module
// of the build. Nothing to do in a native build. Throws sx_error (SX_ERR_BACKEND_UNAVAILABLE).
void sx_backend_load_modules(void);

// Call after sx_backend_init. The name alone is cheap; the report reads cpuid.
const std::string & sx_cpu_variant_name(void);
sx_cpu_report       sx_cpu_describe(void);

// The CPU backend's thread pool: `threads` threads (the caller is one of them) that outlive each
// pass and serve whichever thread calls llama_decode. Throws sx_error (SX_ERR_BACKEND_UNAVAILABLE).
ggml_threadpool_t sx_cpu_threadpool_new(int32_t threads);
void              sx_cpu_threadpool_free(ggml_threadpool_t pool);
