#include "cpu_backend.h"

#include "cpu_features.h"
#include "errors.h"
#include "ggml-backend.h"

#include <algorithm>
#include <cstdlib>

#if defined(GGML_BACKEND_DL) && !defined(_WIN32)
#    include <dirent.h>
#    include <dlfcn.h>
#    define SX_BACKEND_MODULES 1
#endif

static std::string                 g_module_dir;
static std::string                 g_variant = "native";
static std::vector<sx_cpu_variant> g_variants;

void sx_backend_set_module_dir(const std::string & dir) {
    g_module_dir = dir;
}

#ifdef SX_BACKEND_MODULES

static const std::string k_module_ext = ".so";  // ggml's name on macOS too
static const std::string k_cpu_prefix = "libggml-cpu-";

static bool ends_with(const std::string & s, const std::string & end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

static std::vector<std::string> module_files(void) {
    std::vector<std::string> files;
    DIR *                    dir = opendir(g_module_dir.c_str());
    if (dir == nullptr) {
        return files;
    }
    for (struct dirent * e = readdir(dir); e != nullptr; e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.rfind("libggml-", 0) == 0 && ends_with(name, k_module_ext) && name != "libggml-base" + k_module_ext) {
            files.push_back(name);
        }
    }
    closedir(dir);
    std::sort(files.begin(), files.end());
    return files;
}

// A variant's score for this CPU, from its ggml_backend_score, as ggml's own loader finds it: the
// feature check is compiled for the baseline ISA, so any variant can be opened to ask.
static int score_module(const std::string & path) {
    void * handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        return 0;
    }
    auto      score = (int (*)(void)) dlsym(handle, "ggml_backend_score");
    const int s     = score != nullptr ? score() : 0;
    dlclose(handle);
    return s;
}

static std::string variant_names(void) {
    std::string names;
    for (const auto & v : g_variants) {
        names += (names.empty() ? "" : ", ") + v.name + (v.score > 0 ? "" : " (unsupported)");
    }
    return names;
}

static void load_cpu_variant(const std::vector<std::string> & files) {
    g_variants.clear();
    for (const auto & f : files) {
        if (f.rfind(k_cpu_prefix, 0) == 0) {
            const std::string name =
                f.substr(k_cpu_prefix.size(), f.size() - k_cpu_prefix.size() - k_module_ext.size());
            g_variants.push_back({ name, score_module(g_module_dir + "/" + f) });
        }
    }
    if (g_variants.empty()) {
        throw sx_error(SX_ERR_BACKEND_UNAVAILABLE, std::string(__func__) + ": no CPU backend (" + k_cpu_prefix + "*" +
                                                       k_module_ext + ") in " + g_module_dir +
                                                       ": rebuild the engine with `npm run build`");
    }
    const char *           env    = std::getenv("SPECEXEC_CPU_VARIANT");
    const std::string      forced = env != nullptr ? env : "";
    const sx_cpu_variant * pick   = nullptr;
    for (const auto & v : g_variants) {
        const bool better = forced.empty() ? pick == nullptr || v.score > pick->score : v.name == forced;
        if (better) {
            pick = &v;
        }
    }
    if (pick == nullptr) {
        throw sx_error(SX_ERR_BACKEND_UNAVAILABLE, std::string(__func__) + ": SPECEXEC_CPU_VARIANT=" + forced +
                                                       " is not a variant of this build (it has: " + variant_names() +
                                                       ")");
    }
    if (pick->score == 0) {
        throw sx_error(SX_ERR_BACKEND_UNAVAILABLE, std::string(__func__) + ": this CPU cannot run the CPU variant '" +
                                                       pick->name + "' (variants: " + variant_names() + ")");
    }
    if (ggml_backend_load((g_module_dir + "/" + k_cpu_prefix + pick->name + k_module_ext).c_str()) == nullptr) {
        throw sx_error(SX_ERR_BACKEND_UNAVAILABLE,
                       std::string(__func__) + ": ggml could not load the CPU variant '" + pick->name + "'");
    }
    g_variant = pick->name;
}

void sx_backend_load_modules(void) {
    const std::vector<std::string> files = module_files();
    load_cpu_variant(files);
    // a GPU module whose driver is missing fails to open: the engine runs on the CPU (info says so)
    for (const auto & f : files) {
        if (f.rfind(k_cpu_prefix, 0) != 0) {
            ggml_backend_load((g_module_dir + "/" + f).c_str());
        }
    }
}

#else

void sx_backend_load_modules(void) {}

#endif

// A function of the loaded CPU backend (a module in the portable build): looked up, not linked.
static void * cpu_backend_proc(const char * name) {
    ggml_backend_reg_t reg = ggml_backend_reg_by_name("CPU");
    return reg ? ggml_backend_reg_get_proc_address(reg, name) : nullptr;
}

static std::vector<std::string> variant_features(void) {
    std::vector<std::string> out;
    ggml_backend_reg_t       reg = ggml_backend_reg_by_name("CPU");
    auto get = reg ? (ggml_backend_get_features_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features") :
                     nullptr;
    for (ggml_backend_feature * f = get ? get(reg) : nullptr; f != nullptr && f->name != nullptr; ++f) {
        out.push_back(f->name);
    }
    return out;
}

const std::string & sx_cpu_variant_name(void) {
    return g_variant;
}

sx_cpu_report sx_cpu_describe(void) {
    return { g_variant, sx_cpu_features(), variant_features(), g_variants };
}

ggml_threadpool_t sx_cpu_threadpool_new(int32_t threads) {
    auto create = (ggml_threadpool_t(*)(ggml_threadpool_params *)) cpu_backend_proc("ggml_threadpool_new");
    ggml_threadpool_params params = ggml_threadpool_params_default(threads);
    // between passes an idle worker spins ~1e5 pauses (a few ms) before it sleeps, not ggml's
    // default 50x that (~170 ms of a busy core after every completion, while the user types);
    // passes come within microseconds of each other, so tokens/s is the same
    params.poll                   = 1;
    ggml_threadpool_t pool        = create ? create(&params) : nullptr;
    if (pool == nullptr) {
        throw sx_error(SX_ERR_BACKEND_UNAVAILABLE,
                       std::string(__func__) + ": cannot start a pool of " + std::to_string(threads) + " CPU threads");
    }
    return pool;
}

void sx_cpu_threadpool_free(ggml_threadpool_t pool) {
    auto destroy = (void (*)(ggml_threadpool_t)) cpu_backend_proc("ggml_threadpool_free");
    if (pool != nullptr && destroy != nullptr) {
        destroy(pool);
    }
}
