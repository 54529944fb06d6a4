#include "calibrate.h"

#include "clock.h"
#include "cpu_backend.h"
#include "verify.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

// a calibration past this is cut short (the curve is extrapolated from what was measured)
static const double  CALIBRATION_MAX_MS     = 10000;
// tokens of history the calibration's passes attend over (bench and editor prompts: 300-1,500),
// as many as its prefill reads in about this time
static const int32_t CALIBRATION_HISTORY    = 256;
static const double  CALIBRATION_HISTORY_MS = 3000;
// ggml's GPU backends compute the layers left in RAM on the GPU from this batch size (op_offload)
static const int32_t OP_OFFLOAD_MIN_BATCH   = 32;

// The cache: one line per model file, machine and settings (the key), then "batch:ms ...".
static bool cache_read(const std::string & file, const std::string & key, sx_cost_curve & curve) {
    std::ifstream in(file);
    std::string   line;
    while (std::getline(in, line)) {
        const size_t tab = line.find('\t');
        if (tab == std::string::npos || line.compare(0, tab, key) != 0) {
            continue;
        }
        std::istringstream ss(line.substr(tab + 1));
        sx_cost_curve      c;
        int32_t            n;
        double             ms;
        char               colon;
        while (ss >> n >> colon >> ms) {
            c.batch.push_back(n);
            c.ms.push_back(ms);
        }
        if (!c.batch.empty()) {
            curve = c;
            return true;
        }
    }
    return false;
}

static void cache_write(const std::string & file, const std::string & key, const sx_cost_curve & curve) {
    std::vector<std::string> lines;
    {
        std::ifstream in(file);
        std::string   line;
        while (std::getline(in, line)) {
            if (line.compare(0, key.size() + 1, key + "\t") != 0) {
                lines.push_back(line);
            }
        }
    }
    std::ostringstream entry;
    entry << key << '\t';
    for (size_t i = 0; i < curve.batch.size(); ++i) {
        entry << curve.batch[i] << ':' << curve.ms[i] << ' ';
    }
    lines.push_back(entry.str());
    const std::string tmp = file + ".tmp";
    {
        std::ofstream out(tmp);
        for (const std::string & l : lines) {
            out << l << '\n';
        }
    }
    std::rename(tmp.c_str(), file.c_str());
}

static std::string calibration_key(const sx_side & side, int32_t threads) {
    struct stat st;
    stat(side.path.c_str(), &st);
    char host[256] = { 0 };
    gethostname(host, sizeof(host) - 1);
    // the placement last: a CPU build, a GPU build and each GPU layer split time differently, and
    // so does each CPU variant (AMX or not); "tree": passes timed as trees (curves cached before
    // were causal batches); "pool": passes run on ggml's thread pool (curves before were OpenMP's)
    return side.path + "|" + std::to_string((long long) st.st_size) + "|" + std::to_string((long long) st.st_mtime) +
           "|t" + std::to_string(threads) + "|b" + std::to_string(side.n_batch) + "|h" +
           std::to_string(CALIBRATION_HISTORY) + "|tree|pool|" + host + "|" + sx_side_placement(side) + "|" +
           sx_cpu_variant_name();
}

static std::vector<llama_token> calibration_tokens(const sx_side & side, int32_t n, int32_t salt) {
    std::vector<llama_token> tokens(n);
    const int32_t            n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(side.model));
    for (int32_t i = 0; i < n; ++i) {
        tokens[i] = (i * 7919 + salt) % n_vocab;
    }
    return tokens;
}

// The tree a calibration pass verifies: n nodes, node i's parent (i - 1) / fan_out, about as bushy
// as a best-first draft tree (two leaves in three) while its leaves fit the sequences.
static sx_tree calibration_tree(const sx_side & side, int32_t n) {
    const std::vector<llama_token> tokens  = calibration_tokens(side, n, 13);
    int32_t                        fan_out = 3;
    while (fan_out > 1 && n - (n - 1 + fan_out - 1) / fan_out > side.n_seq_max) {
        fan_out--;
    }
    sx_tree tree;
    sx_tree_init(tree, tokens[0]);
    for (int32_t i = 1; i < n; ++i) {
        tree.add(tokens[i], (i - 1) / fan_out, -(float) i);
    }
    return tree;
}

// One pass of n tokens after the calibration history, as verification runs it: a tree of n nodes
// (one sequence per leaf, the history shared by all, logits for every node; a causal batch of the
// same size costs less once the tree has hundreds of leaves). The median of three.
double sx_calibrate_time_pass(sx_side & side, int32_t n) {
    const sx_tree                     tree     = calibration_tree(side, n);
    const llama_pos                   root_pos = (llama_pos) side.cached.size();
    std::vector<std::vector<int32_t>> leaf_seqs;
    double                            ms[3];
    for (double & m : ms) {
        const sx_clock::time_point t0 = sx_clock::now();
        sx_verify_tree(side, {}, tree, leaf_seqs);
        m = ms_since(t0);
        llama_memory_seq_rm(llama_get_memory(side.ctx), -1, root_pos, -1);
    }
    std::sort(ms, ms + 3);
    return ms[1];
}

sx_cost_curve sx_calibrate(sx_side & side, int32_t max_batch, const std::string & cache, int32_t threads) {
    sx_cost_curve     curve;
    const std::string key = calibration_key(side, threads);
    if (!cache.empty() && cache_read(cache, key, curve)) {
        return curve;
    }
    const int32_t top = std::min(max_batch, side.n_batch);
    // the history of a typical completion prompt, as far as the context leaves room for it and a
    // slow model's prefill stays short (chunks while under CALIBRATION_HISTORY_MS)
    const int32_t history =
        std::max(0, std::min<int32_t>(CALIBRATION_HISTORY, (int32_t) llama_n_ctx(side.ctx) - top - 1));
    const std::vector<llama_token> prompt = calibration_tokens(side, history, 101);
    const sx_clock::time_point     t0     = sx_clock::now();
    sx_side_reset(side);
    for (int32_t i = 0; i < history && ms_since(t0) < CALIBRATION_HISTORY_MS; i += 64) {
        sx_side_decode(side, prompt.data() + i, std::min(64, history - i));
    }
    sx_calibrate_time_pass(side, 1);  // warm-up: first passes allocate and fault in the weights
    // A calibration must stay short, yet see the curve as far as it affords: it doubles the batch
    // while the next doubling (about twice this pass, three times) fits in the time left; beyond
    // that the curve is extrapolated linearly (which underestimates: a tree's attention grows
    // faster than its size). On a GPU, a slow pass that did not grow means weights streamed over
    // the bus (500 tokens cost what 1 does): the largest batch alone decides the rest. Below
    // op_offload's batch, layers in RAM run on the CPU, whose memory-bound small batches look flat
    // too, so only GPU batches may jump.
    const bool gpu      = sx_side_placement(side) != "cpu";
    double     spent_ms = 0;
    for (int32_t n = 1;;) {
        const double ms    = sx_calibrate_time_pass(side, n);
        const bool   grows = !curve.ms.empty() && ms >= 1.8 * curve.ms.back();
        const bool   slow  = ms > 250.0;
        curve.batch.push_back(n);
        curve.ms.push_back(ms);
        spent_ms += 3 * ms;  // time_pass takes the median of three
        if (n >= top || spent_ms + 3 * 2 * ms > CALIBRATION_MAX_MS) {
            break;
        }
        n = gpu && n >= OP_OFFLOAD_MIN_BATCH && slow && !grows ? top : std::min(2 * n, top);
    }
    sx_side_reset(side);
    if (!cache.empty()) {
        cache_write(cache, key, curve);
    }
    return curve;
}
