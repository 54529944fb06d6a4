// Loading models with actionable errors, describing them, and checking that a draft and a target
// share one tokenizer (the draft's tokens are fed to the target as they are).
#pragma once

#include "llama.h"

#include <cstdint>
#include <string>

struct sx_model_info {
    std::string path;
    std::string architecture;
    std::string name;
    std::string description;  // llama_model_desc, e.g. "llama 7B Q8_0"
    uint64_t    n_params    = 0;
    uint64_t    size_bytes  = 0;
    int32_t     n_layer     = 0;
    int32_t     n_embd      = 0;
    int32_t     n_ctx_train = 0;
    int32_t     n_vocab     = 0;
    std::string vocab_type;
    bool        add_bos = false;
    llama_token bos = LLAMA_TOKEN_NULL, eos = LLAMA_TOKEN_NULL, eot = LLAMA_TOKEN_NULL;
    llama_token fim_pre = LLAMA_TOKEN_NULL, fim_suf = LLAMA_TOKEN_NULL, fim_mid = LLAMA_TOKEN_NULL;
    llama_token fim_rep = LLAMA_TOKEN_NULL, fim_sep = LLAMA_TOKEN_NULL;  // repository-level FIM
    std::string chat_template;                                           // empty when the model has none
};

// Initialises the llama.cpp backend once (loading the backend modules of a portable build) and
// routes its log to stderr (warnings and errors only). Throws sx_error (SX_ERR_BACKEND_UNAVAILABLE).
void sx_backend_init(void);

// Validates the file and loads it. vocab_only loads just the tokenizer. Throws sx_error.
llama_model * sx_model_load(const std::string & path, int32_t n_gpu_layers, bool vocab_only);
void          sx_model_free(llama_model * model);

sx_model_info sx_model_describe(const llama_model * model, const std::string & path);

// Throws SX_ERR_VOCAB_MISMATCH when speculative decoding with this pair would be wrong
// (the same checks as llama.cpp's speculative examples: type, size, special tokens, token texts).
void sx_check_vocab_compatible(const llama_model * draft,
                               const std::string & draft_path,
                               const llama_model * target,
                               const std::string & target_path);
