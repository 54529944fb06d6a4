// Engine errors with stable codes. The codes travel unchanged to JSON-RPC error replies: each
// SX_ERR_NAME is host/protocol.ts's ErrorCodes.Name (a unit test checks), so never renumber them.
#pragma once

#include <stdexcept>
#include <string>

enum sx_error_code {
    SX_ERR_MODEL_MISSING       = -32010,  // path does not exist or is not a regular file
    SX_ERR_MODEL_INVALID       = -32011,  // not a GGUF file, truncated or corrupt
    SX_ERR_MODEL_UNSUPPORTED   = -32012,  // llama.cpp cannot load it (architecture, vocab-only, ...)
    SX_ERR_VOCAB_MISMATCH      = -32013,  // draft and target tokenizers differ
    SX_ERR_CONTEXT_OVERFLOW    = -32014,  // prompt + max tokens do not fit the context
    SX_ERR_NOT_INITIALIZED     = -32015,  // no models loaded yet
    SX_ERR_BUSY                = -32016,  // a generation is already running
    SX_ERR_DECODE_FAILED       = -32017,  // llama_decode returned an error
    SX_ERR_BACKEND_UNAVAILABLE = -32019,  // no CPU backend this CPU can run (or the forced one cannot)
    SX_ERR_CONTEXT_TOO_LARGE   = -32020,  // not enough memory for a context of this size
    SX_ERR_INVALID_PARAMS      = -32602,  // same as JSON-RPC InvalidParams
};

struct sx_error : std::runtime_error {
    sx_error(int code, const std::string & message) : std::runtime_error(message), code(code) {}

    int code;
};
