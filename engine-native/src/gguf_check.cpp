#include "gguf_check.h"

#include "errors.h"
#include "gguf.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

// GGUF header: magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata kv count.
static const size_t   GGUF_HEADER_SIZE = 4 + 4 + 8 + 8;
static const uint64_t GGUF_MAX_TENSORS = 1u << 20;  // far beyond any real model
static const uint64_t GGUF_MAX_KV      = 1u << 20;

void gguf_check_file(const std::string & path, bool need_weights) {
    struct stat st;
    if (path.empty()) {
        throw sx_error(SX_ERR_MODEL_MISSING, "no model path given");
    }
    if (stat(path.c_str(), &st) != 0) {
        throw sx_error(SX_ERR_MODEL_MISSING, "model file not found: " + path);
    }
    if (S_ISDIR(st.st_mode)) {
        throw sx_error(SX_ERR_MODEL_MISSING, "model path is a directory, expected a .gguf file: " + path);
    }
    if (!S_ISREG(st.st_mode)) {
        throw sx_error(SX_ERR_MODEL_MISSING, "model path is not a regular file: " + path);
    }
    if ((size_t) st.st_size < GGUF_HEADER_SIZE) {
        throw sx_error(SX_ERR_MODEL_INVALID, "model file is empty or truncated (" + std::to_string(st.st_size) +
                                                 " bytes), not a GGUF model: " + path);
    }
    FILE * f = fopen(path.c_str(), "rb");
    if (!f) {
        throw sx_error(SX_ERR_MODEL_MISSING, "cannot open model file (" + std::string(strerror(errno)) + "): " + path);
    }
    unsigned char header[GGUF_HEADER_SIZE];
    const size_t  n = fread(header, 1, sizeof(header), f);
    fclose(f);
    if (n != sizeof(header) || memcmp(header, "GGUF", 4) != 0) {
        throw sx_error(SX_ERR_MODEL_INVALID, "not a GGUF model file (wrong magic bytes): " + path +
                                                 ". Convert the model to GGUF with llama.cpp's convert_hf_to_gguf.py");
    }
    uint32_t version;
    uint64_t n_tensors, n_kv;
    memcpy(&version, header + 4, 4);
    memcpy(&n_tensors, header + 8, 8);
    memcpy(&n_kv, header + 16, 8);
    if (version < 2 || version > 3) {
        throw sx_error(SX_ERR_MODEL_INVALID, "unsupported GGUF version " + std::to_string(version) + ": " + path);
    }
    if (n_tensors > GGUF_MAX_TENSORS || n_kv > GGUF_MAX_KV) {
        throw sx_error(SX_ERR_MODEL_INVALID, "corrupt GGUF header (" + std::to_string(n_tensors) + " tensors, " +
                                                 std::to_string(n_kv) + " metadata keys): " + path);
    }

    // the full metadata, without loading tensor data: catches damaged key/value and tensor tables
    gguf_init_params params = { true, nullptr };
    gguf_context *   ctx    = gguf_init_from_file(path.c_str(), params);
    if (!ctx) {
        throw sx_error(SX_ERR_MODEL_INVALID,
                       "corrupt GGUF file (its metadata cannot be read; truncated or damaged?): " + path);
    }
    const int64_t n_tensors_read = gguf_get_n_tensors(ctx);
    uint64_t      needed         = gguf_get_data_offset(ctx);
    for (int64_t i = 0; i < n_tensors_read; ++i) {
        needed = std::max<uint64_t>(
            needed, gguf_get_data_offset(ctx) + gguf_get_tensor_offset(ctx, i) + gguf_get_tensor_size(ctx, i));
    }
    gguf_free(ctx);
    if (n_tensors_read == 0 && need_weights) {
        throw sx_error(SX_ERR_MODEL_UNSUPPORTED, "the file holds a vocabulary only, no weights: " + path);
    }
    if (needed > (uint64_t) st.st_size) {
        throw sx_error(SX_ERR_MODEL_INVALID, "truncated GGUF file: its tensors need " + std::to_string(needed) +
                                                 " bytes but the file has " + std::to_string(st.st_size) +
                                                 " (an interrupted download?): " + path);
    }
}
