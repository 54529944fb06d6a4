// Cheap checks on a model file before llama.cpp sees it, so that a wrong path, a directory, an
// empty or truncated file or a non-GGUF file gets an error that names the file and the problem.
#pragma once

#include <string>

// Throws sx_error (SX_ERR_MODEL_MISSING / SX_ERR_MODEL_INVALID / SX_ERR_MODEL_UNSUPPORTED) when the
// file cannot be a GGUF model: missing, a directory, empty, not GGUF, corrupt metadata, truncated
// tensor data, or (with need_weights) a vocabulary without weights.
void gguf_check_file(const std::string & path, bool need_weights);
