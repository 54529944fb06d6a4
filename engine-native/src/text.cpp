#include "text.h"

#include "errors.h"

#include <algorithm>
#include <climits>

std::vector<llama_token> sx_tokenize(const llama_vocab * vocab,
                                     const std::string & text,
                                     bool                add_special,
                                     bool                parse_special) {
    std::vector<llama_token> tokens(text.size() + 2);
    int32_t n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), tokens.data(), (int32_t) tokens.size(),
                               add_special, parse_special);
    if (n < 0) {
        tokens.resize(-n);
        n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), tokens.data(), (int32_t) tokens.size(),
                           add_special, parse_special);
    }
    if (n < 0) {
        throw sx_error(SX_ERR_INVALID_PARAMS, std::string(__func__) + ": text too long to tokenize");
    }
    tokens.resize(n);
    return tokens;
}

std::string sx_token_piece(const llama_vocab * vocab, llama_token token, bool render_special) {
    char    buf[128];
    int32_t n = llama_token_to_piece(vocab, token, buf, sizeof(buf), 0, render_special);
    if (n >= 0) {
        return std::string(buf, n);
    }
    std::string big(-n, '\0');
    n = llama_token_to_piece(vocab, token, big.data(), (int32_t) big.size(), 0, render_special);
    return n < 0 ? "" : big.substr(0, n);
}

std::string sx_detokenize(const llama_vocab * vocab, const std::vector<llama_token> & tokens, bool render_special) {
    std::string out;
    for (llama_token t : tokens) {
        out += sx_token_piece(vocab, t, render_special);
    }
    return out;
}

static void add_bos(const llama_vocab * vocab, std::vector<llama_token> & out) {
    if (llama_vocab_get_add_bos(vocab) && llama_vocab_bos(vocab) != LLAMA_TOKEN_NULL) {
        out.push_back(llama_vocab_bos(vocab));
    }
}

static bool piece_ends_line(const llama_vocab * vocab, llama_token t) {
    const std::string piece = sx_token_piece(vocab, t);
    return !piece.empty() && piece.back() == '\n';
}

// Cuts to search for a line boundary: a cut never moves by more than this many tokens.
static const int32_t LINE_SNAP_TOKENS = 64;

// Drops tokens from the front so that at most `keep` remain, starting at a line start when one
// is within reach.
static int32_t drop_front(const llama_vocab * vocab, std::vector<llama_token> & t, int32_t keep) {
    int32_t drop = (int32_t) t.size() - keep;
    if (drop <= 0) {
        return 0;
    }
    for (int32_t i = drop; i < (int32_t) t.size() && i < drop + LINE_SNAP_TOKENS; ++i) {
        if (piece_ends_line(vocab, t[i - 1])) {
            drop = i;
            break;
        }
    }
    t.erase(t.begin(), t.begin() + drop);
    return drop;
}

// Drops tokens from the back so that at most `keep` remain, ending at a line end when one is within reach.
static int32_t drop_back(const llama_vocab * vocab, std::vector<llama_token> & t, int32_t keep) {
    const int32_t n = (int32_t) t.size();
    if (keep >= n) {
        return 0;
    }
    int32_t end = keep;
    for (int32_t i = keep; i > 0 && i > keep - LINE_SNAP_TOKENS; --i) {
        if (piece_ends_line(vocab, t[i - 1])) {
            end = i;
            break;
        }
    }
    t.resize(end);
    return n - end;
}

// The extra context as llama.cpp's server builds it (tools/server/server-common.cpp,
// format_prompt_infill, in the pinned source): names and separators byte for byte, so that a model
// sees what it would see behind llama-server's /infill.
static std::vector<llama_token> extra_tokens(const llama_vocab * vocab, const std::vector<sx_prompt_chunk> & extra) {
    const llama_token        rep = llama_vocab_fim_rep(vocab);
    const llama_token        sep = llama_vocab_fim_sep(vocab);
    std::vector<llama_token> out;
    auto                     append = [&](const std::string & text) {
        const std::vector<llama_token> t = sx_tokenize(vocab, text, false, false);
        out.insert(out.end(), t.begin(), t.end());
    };
    if (rep != LLAMA_TOKEN_NULL) {
        out.push_back(rep);
        append("myproject\n");
    }
    for (const sx_prompt_chunk & chunk : extra) {
        if (sep != LLAMA_TOKEN_NULL) {
            out.push_back(sep);
            append(chunk.filename + "\n");
        } else {
            append("\n\n--- snippet ---\n\n");
        }
        append(chunk.text);
    }
    if (sep != LLAMA_TOKEN_NULL) {
        out.push_back(sep);
        append("filename\n");  // what the server writes for the current file, whatever its name
    }
    return out;
}

static std::vector<llama_token> fim_tokens(const llama_vocab * vocab,
                                           const sx_prompt &   prompt,
                                           int32_t             max_len,
                                           sx_prompt_trim &    trim) {
    const llama_token pre = llama_vocab_fim_pre(vocab);
    const llama_token suf = llama_vocab_fim_suf(vocab);
    const llama_token mid = llama_vocab_fim_mid(vocab);
    if (pre == LLAMA_TOKEN_NULL || suf == LLAMA_TOKEN_NULL || mid == LLAMA_TOKEN_NULL) {
        throw sx_error(SX_ERR_INVALID_PARAMS, "the model has no fill-in-the-middle tokens; send a plain prompt");
    }
    std::vector<llama_token> extra = prompt.has_extra ? extra_tokens(vocab, prompt.extra) : std::vector<llama_token>();
    std::vector<llama_token> bos;
    add_bos(vocab, bos);
    // editor text is data, never control tokens: parse_special off
    std::vector<llama_token> p    = sx_tokenize(vocab, prompt.prefix, false, false);
    std::vector<llama_token> s    = sx_tokenize(vocab, prompt.suffix, false, false);
    const int32_t            room = max_len - (int32_t) bos.size() - 3;
    if (room > 0 && (int32_t) (p.size() + s.size()) > room) {
        const int32_t keep_suffix = std::min((int32_t) s.size(), std::max(room / 4, room - (int32_t) p.size()));
        trim.suffix_tokens        = drop_back(vocab, s, keep_suffix);
        trim.prefix_tokens        = drop_front(vocab, p, room - (int32_t) s.size());
    }
    const int32_t extra_room = std::max(0, room - (int32_t) (p.size() + s.size()));
    if ((int32_t) extra.size() > extra_room) {
        trim.extra_tokens = (int32_t) extra.size() - extra_room;
        extra.erase(extra.begin(), extra.begin() + trim.extra_tokens);
    }
    // the server's order: extra context, BOS, prefix, suffix
    std::vector<llama_token> out = extra;
    out.insert(out.end(), bos.begin(), bos.end());
    out.push_back(pre);
    out.insert(out.end(), p.begin(), p.end());
    out.push_back(suf);
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(mid);
    return out;
}

std::vector<llama_token> sx_prompt_tokens_fit(const llama_vocab * vocab,
                                              const sx_prompt &   prompt,
                                              int32_t             max_len,
                                              sx_prompt_trim &    trim) {
    trim = sx_prompt_trim();
    if (prompt.fim) {
        return fim_tokens(vocab, prompt, max_len, trim);
    }
    std::vector<llama_token> out;
    add_bos(vocab, out);
    // parse_special: chat templates put control tokens into the text
    std::vector<llama_token> t    = sx_tokenize(vocab, prompt.text, false, true);
    const int32_t            room = max_len - (int32_t) out.size();
    if (room > 0) {
        trim.prefix_tokens = drop_front(vocab, t, room);
    }
    out.insert(out.end(), t.begin(), t.end());
    return out;
}

std::vector<llama_token> sx_prompt_tokens(const llama_vocab * vocab, const sx_prompt & prompt) {
    sx_prompt_trim none;
    return sx_prompt_tokens_fit(vocab, prompt, INT32_MAX, none);
}

size_t sx_utf8_complete_len(const std::string & s) {
    // walk back over at most 3 continuation bytes to the lead byte of the last character
    size_t n    = s.size();
    size_t i    = n;
    int    back = 0;
    while (i > 0 && back < 4) {
        const unsigned char c = (unsigned char) s[i - 1];
        if ((c & 0xC0) != 0x80) {
            const size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
            return (n - (i - 1)) >= need ? n : i - 1;
        }
        --i;
        ++back;
    }
    return n;
}

// Bytes at the end of text that could begin one of the stop strings.
static size_t stop_holdback(const std::string & text, const std::vector<std::string> & stops) {
    size_t hold = 0;
    for (const std::string & s : stops) {
        const size_t max_k = std::min(s.size() - 1, text.size());
        for (size_t k = max_k; k > hold; --k) {
            if (text.compare(text.size() - k, k, s, 0, k) == 0) {
                hold = k;
                break;
            }
        }
    }
    return hold;
}

std::string sx_text_stream::push(const std::string & piece) {
    if (stopped) {
        return "";
    }
    // search only the region where a stop string could newly appear
    const size_t old_size = text.size();
    text += piece;
    for (const std::string & s : stops) {
        if (s.empty()) {
            continue;
        }
        const size_t from = old_size >= s.size() ? old_size - s.size() + 1 : 0;
        const size_t at   = text.find(s, from < emitted ? emitted : from);
        if (at != std::string::npos) {
            text.resize(at);
            stopped = true;
        }
    }
    size_t safe = stopped ? text.size() : text.size() - stop_holdback(text, stops);
    safe        = sx_utf8_complete_len(text.substr(0, safe));
    if (safe <= emitted) {
        return "";
    }
    std::string delta = text.substr(emitted, safe - emitted);
    emitted           = safe;
    return delta;
}

std::string sx_text_stream::flush() {
    std::string delta = text.substr(emitted);
    emitted           = text.size();
    return delta;
}

static std::string chat_format_plain(const std::vector<sx_chat_message> & messages) {
    std::string out;
    for (const sx_chat_message & m : messages) {
        if (m.role == "system") {
            out += m.content + "\n\n";
        } else if (m.role == "user") {
            out += "### Instruction:\n" + m.content + "\n";
        } else {
            out += "### Response:\n" + m.content + "\n";
        }
    }
    return out + "### Response:\n";
}

std::string sx_chat_format(const std::string & tmpl, const std::vector<sx_chat_message> & messages) {
    if (tmpl.empty()) {
        return chat_format_plain(messages);
    }
    std::vector<llama_chat_message> msgs;
    size_t                          total = 0;
    for (const sx_chat_message & m : messages) {
        msgs.push_back({ m.role.c_str(), m.content.c_str() });
        total += m.role.size() + m.content.size();
    }
    std::vector<char> buf(total * 2 + 1024);
    int32_t           n =
        llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), true, buf.data(), (int32_t) buf.size());
    if (n > (int32_t) buf.size()) {
        buf.resize(n);
        n = llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), true, buf.data(), (int32_t) buf.size());
    }
    if (n < 0) {
        return chat_format_plain(messages);  // a Jinja template llama.cpp's built-ins do not recognise
    }
    return std::string(buf.data(), n);
}
