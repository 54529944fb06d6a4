// Tokens <-> text: tokenizing, prompt assembly (plain and fill-in-the-middle) and streaming
// detokenization that never splits a UTF-8 character or leaks part of a stop string.
#pragma once

#include "llama.h"

#include <string>
#include <vector>

std::vector<llama_token> sx_tokenize(const llama_vocab * vocab,
                                     const std::string & text,
                                     bool                add_special,
                                     bool                parse_special);
// render_special: control tokens (FIM, BOS) as their text, for showing a prompt; off for output
std::string              sx_token_piece(const llama_vocab * vocab, llama_token token, bool render_special = false);
std::string              sx_detokenize(const llama_vocab *              vocab,
                                       const std::vector<llama_token> & tokens,
                                       bool                             render_special = false);

// A piece of another file for a FIM prompt's repository-level context (llama.cpp's input_extra).
struct sx_prompt_chunk {
    std::string filename;
    std::string text;
};

struct sx_prompt {
    bool                         fim = false;  // true: prefix/suffix in PSM order with the model's FIM tokens
    std::string                  text;         // plain prompt (fim = false)
    std::string                  prefix;       // text before the cursor (fim = true)
    std::string                  suffix;       // text after the cursor (fim = true)
    // fim = true and has_extra: the extra context before the FIM prefix, laid out exactly as
    // llama.cpp's server lays out /infill's input_extra (format_prompt_infill): with the model's
    // repository tokens (FIM_REP "myproject", a FIM_SEP line per chunk, FIM_SEP "filename" before
    // the prefix) or, without FIM_SEP, each chunk after a "--- snippet ---" line
    bool                         has_extra = false;
    std::vector<sx_prompt_chunk> extra;
};

// Builds the token sequence the models see. Throws sx_error when the model has no FIM tokens.
std::vector<llama_token> sx_prompt_tokens(const llama_vocab * vocab, const sx_prompt & prompt);

// Tokens dropped by sx_prompt_tokens_fit: the text farthest from the cursor goes first.
struct sx_prompt_trim {
    int32_t prefix_tokens = 0;  // from the start of a plain prompt or of a FIM prefix
    int32_t suffix_tokens = 0;  // from the end of a FIM suffix
    int32_t extra_tokens  = 0;  // from the start of a FIM prompt's extra context
};

// As sx_prompt_tokens, but at most max_len tokens long. A plain prompt loses its start; a FIM
// prompt keeps the text nearest the cursor: the suffix keeps at least a quarter of the room (less
// if it is shorter), the prefix the rest, and the extra context what they leave (its start goes
// first, as llama.cpp's server takes the tail). Cuts fall on line boundaries where one is near.
std::vector<llama_token> sx_prompt_tokens_fit(const llama_vocab * vocab,
                                              const sx_prompt &   prompt,
                                              int32_t             max_len,
                                              sx_prompt_trim &    trim);

// Length of the longest prefix of s that ends on a UTF-8 character boundary.
size_t sx_utf8_complete_len(const std::string & s);

// Accumulates generated text and decides what may be shown: complete UTF-8 only, and nothing
// that might turn out to be the start of a stop string.
struct sx_text_stream {
    std::vector<std::string> stops;
    std::string              text;         // everything generated so far (cut at a stop string once found)
    size_t                   emitted = 0;  // bytes of text already handed out
    bool                     stopped = false;

    // Appends a piece; returns the delta that is now safe to emit (possibly empty).
    std::string push(const std::string & piece);
    // Returns whatever is still held back (at the end of generation).
    std::string flush();
};

struct sx_chat_message {
    std::string role;
    std::string content;
};

// Formats a conversation with the model's chat template (llama.cpp's built-in templates), ending
// with the assistant's turn. A model without a known template gets a plain "### Instruction /
// ### Response" layout, which small code models follow well enough.
std::string sx_chat_format(const std::string & tmpl, const std::vector<sx_chat_message> & messages);
