#include "model.h"

#include "cpu_backend.h"
#include "errors.h"
#include "gguf_check.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <mutex>

// llama.cpp reports why a load failed only through its log; keep the last error line so the
// exception can carry it to the user.
static std::mutex  g_log_mutex;
static std::string g_last_error;

static void sx_log_callback(enum ggml_log_level level, const char * text, void * /*user_data*/) {
    if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN) {
        return;
    }
    // deepseek-coder's vocabulary marks its FIM tokens as user-defined: llama.cpp fixes the type
    // itself and warns at every load, which says nothing the user can act on
    if (strstr(text, "control-looking token") != nullptr) {
        return;
    }
    fputs(text, stderr);
    if (level == GGML_LOG_LEVEL_ERROR) {
        std::lock_guard<std::mutex> lock(g_log_mutex);
        g_last_error = text;
        while (!g_last_error.empty() && (g_last_error.back() == '\n' || g_last_error.back() == ' ')) {
            g_last_error.pop_back();
        }
    }
}

static std::string take_last_error(void) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::string                 e = g_last_error;
    g_last_error.clear();
    return e;
}

void sx_backend_init(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(sx_log_callback, nullptr);
        sx_backend_load_modules();
        llama_backend_init();
    });
}

llama_model * sx_model_load(const std::string & path, int32_t n_gpu_layers, bool vocab_only) {
    sx_backend_init();
    gguf_check_file(path, !vocab_only);
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers       = n_gpu_layers;
    mp.vocab_only         = vocab_only;
    take_last_error();
    llama_model * model = llama_model_load_from_file(path.c_str(), mp);
    if (!model) {
        std::string why = take_last_error();
        throw sx_error(SX_ERR_MODEL_UNSUPPORTED,
                       "llama.cpp could not load the model " + path + (why.empty() ? "" : " (" + why + ")") +
                           ". Is it a complete GGUF file of an architecture llama.cpp supports?");
    }
    return model;
}

void sx_model_free(llama_model * model) {
    if (model) {
        llama_model_free(model);
    }
}

static std::string meta_string(const llama_model * model, const char * key) {
    char          buf[256];
    const int32_t n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
    return n < 0 ? "" : std::string(buf);
}

static const char * vocab_type_name(enum llama_vocab_type t) {
    static const char * names[] = { "none", "spm", "bpe", "wpm", "ugm", "rwkv" };  // by llama.h's values
    static_assert(LLAMA_VOCAB_TYPE_NONE == 0 && LLAMA_VOCAB_TYPE_RWKV == 5, "names follows llama_vocab_type");
    return t >= 0 && t < (int) (sizeof(names) / sizeof(names[0])) ? names[t] : "other";
}

sx_model_info sx_model_describe(const llama_model * model, const std::string & path) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    sx_model_info       info;
    info.path         = path;
    info.architecture = meta_string(model, "general.architecture");
    info.name         = meta_string(model, "general.name");
    char desc[256];
    llama_model_desc(model, desc, sizeof(desc));
    info.description = desc;
    info.n_params    = llama_model_n_params(model);
    struct stat st;
    info.size_bytes    = stat(path.c_str(), &st) == 0 ? (uint64_t) st.st_size : 0;
    info.n_layer       = llama_model_n_layer(model);
    info.n_embd        = llama_model_n_embd(model);
    info.n_ctx_train   = llama_model_n_ctx_train(model);
    info.n_vocab       = llama_vocab_n_tokens(vocab);
    info.vocab_type    = vocab_type_name(llama_vocab_type(vocab));
    info.add_bos       = llama_vocab_get_add_bos(vocab);
    info.bos           = llama_vocab_bos(vocab);
    info.eos           = llama_vocab_eos(vocab);
    info.eot           = llama_vocab_eot(vocab);
    info.fim_pre       = llama_vocab_fim_pre(vocab);
    info.fim_suf       = llama_vocab_fim_suf(vocab);
    info.fim_mid       = llama_vocab_fim_mid(vocab);
    info.fim_rep       = llama_vocab_fim_rep(vocab);
    info.fim_sep       = llama_vocab_fim_sep(vocab);
    const char * tmpl  = llama_model_chat_template(model, nullptr);
    info.chat_template = tmpl ? tmpl : "";
    return info;
}

// llama.cpp's speculative examples allow this much difference in vocabulary size.
static const int VOCAB_MAX_SIZE_DIFF  = 128;
static const int VOCAB_CHECK_START_ID = 5;

void sx_check_vocab_compatible(const llama_model * draft,
                               const std::string & draft_path,
                               const llama_model * target,
                               const std::string & target_path) {
    const llama_vocab * vd       = llama_model_get_vocab(draft);
    const llama_vocab * vt       = llama_model_get_vocab(target);
    auto                mismatch = [&](const std::string & what) {
        return sx_error(SX_ERR_VOCAB_MISMATCH, "the draft and target models use different tokenizers (" + what +
                                                                  "): draft " + draft_path + ", target " + target_path +
                                                                  ". Pick a draft from the target's model family.");
    };
    if (llama_vocab_type(vd) != llama_vocab_type(vt)) {
        throw mismatch(std::string("vocabulary type ") + vocab_type_name(llama_vocab_type(vd)) + " vs " +
                       vocab_type_name(llama_vocab_type(vt)));
    }
    const int nd = llama_vocab_n_tokens(vd);
    const int nt = llama_vocab_n_tokens(vt);
    if (std::abs(nd - nt) > VOCAB_MAX_SIZE_DIFF) {
        throw mismatch("vocabulary size " + std::to_string(nd) + " vs " + std::to_string(nt));
    }
    if (llama_vocab_get_add_bos(vd) != llama_vocab_get_add_bos(vt) || llama_vocab_bos(vd) != llama_vocab_bos(vt) ||
        llama_vocab_eos(vd) != llama_vocab_eos(vt)) {
        throw mismatch("BOS/EOS tokens");
    }
    const int n = std::min(nd, nt);
    for (int i = VOCAB_CHECK_START_ID; i < n; ++i) {
        const char * a = llama_vocab_get_text(vd, i);
        const char * b = llama_vocab_get_text(vt, i);
        if (strcmp(a, b) != 0) {
            throw mismatch("token " + std::to_string(i) + " is '" + a + "' vs '" + b + "'");
        }
    }
}
