#!/usr/bin/env python3
"""FALLBACK ONLY (the pipeline tokenizes with the engine itself, tokenize_corpus.mjs).
Pure-Python re-implementation of llama.cpp's BPE tokenizer for the
deepseek-coder vocab (tokenizer.ggml.pre = "deepseek-coder"), reading vocab+merges
from a GGUF with gguf-py.  Mirrors llama.cpp src/unicode.cpp semantics:
  * non-ASCII codepoints are "collapsed" to one category byte (L->0xD2, P->0xD3, N->0xD1,
    M->0xD4, S->0xD5, whitespace->0x0B, other->0xD0) before matching \p{..} regexes,
  * \p{P} on ASCII = !-#%-*,-/:-;?-@[-]_{}  (NOT $+<=>^`|~, which llama.cpp calls symbols),
  * regexes are applied one after another; unmatched gaps are kept as their own words,
  * user-defined tokens (type 4) are split out of raw text first (parse_special=false),
  * then GPT-2 byte-level encoding + rank-ordered BPE merges per word (cached)."""
import re, sys, os, unicodedata
from common import VOCAB_GGUF, gguf_module
gguf_module()

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1)) + list(range(ord("¡"), ord("¬")+1)) + list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]; n = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n += 1
    return dict(zip(bs, map(chr, cs)))

# llama.cpp unicode whitespace set
_WS = set([0x09,0x0A,0x0B,0x0C,0x0D,0x20,0x85,0xA0,0x1680,0x2028,0x2029,0x202F,0x205F,0x3000] + list(range(0x2000,0x200B)))
_CAT = {'N':'\xd1','L':'\xd2','P':'\xd3','M':'\xd4','S':'\xd5'}
_collapse_cache = {}
def _collapse_char(c):
    r = _collapse_cache.get(c)
    if r is None:
        o = ord(c)
        if o < 128: r = c
        elif o in _WS: r = '\x0b'
        else: r = _CAT.get(unicodedata.category(c)[0], '\xd0')
        _collapse_cache[c] = r
    return r

_S = r'[ \t\n\v\f\r]'   # std::regex \s in the C locale
_RE_COLLAPSED = [
    re.compile(r'[\r\n]'),
    re.compile(_S + r'?[\xd2A-Za-z]+'),
    re.compile(_S + r'?[\xd3!-#%-*,-/:-;?-@\[-\]_{}]+'),
    None,   # CJK regex runs on the real codepoints
    re.compile(r'[\xd10-9]'),
]
_RE_CJK = re.compile('[一-龥ࠀ-一가-퟿]+')

def pretokenize(text):
    ascii_only = text.isascii()
    coll = text if ascii_only else ''.join(_collapse_char(c) for c in text)
    spans = [(0, len(text))]
    for rx in _RE_COLLAPSED:
        if rx is None:
            if ascii_only: continue
            rx, subj = _RE_CJK, text
        else:
            subj = coll
        out = []
        for (a, b) in spans:
            pos = a
            for m in rx.finditer(subj, a, b):
                s, e = m.span()
                if s > pos: out.append((pos, s))
                if e > s: out.append((s, e))
                pos = e
            if pos < b: out.append((pos, b))
        spans = out
    return [text[a:b] for a, b in spans]

class Tokenizer:
    def __init__(self, gguf_path=VOCAB_GGUF):
        import gguf
        r = gguf.GGUFReader(gguf_path)
        f = r.fields
        self.tokens = [bytes(f['tokenizer.ggml.tokens'].parts[i]).decode('utf-8') for i in f['tokenizer.ggml.tokens'].data]
        self.types = [int(f['tokenizer.ggml.token_type'].parts[i][0]) for i in f['tokenizer.ggml.token_type'].data]
        merges = [bytes(f['tokenizer.ggml.merges'].parts[i]).decode('utf-8') for i in f['tokenizer.ggml.merges'].data]
        self.ranks = {}
        for i, m in enumerate(merges):
            a, b = m.split(' ', 1)
            self.ranks[(a, b)] = i
        self.tok2id = {t: i for i, t in enumerate(self.tokens)}
        self.bos = int(f['tokenizer.ggml.bos_token_id'].parts[-1][0])
        self.eos = int(f['tokenizer.ggml.eos_token_id'].parts[-1][0])
        self.n_vocab = len(self.tokens)
        self.b2u = bytes_to_unicode(); self.u2b = {v: k for k, v in self.b2u.items()}
        # llama.cpp re-types the FIM tokens (<｜fim▁begin/hole/end｜>) as CONTROL, so they are not matched in raw text
        self.user_defined = sorted([t for t, ty in zip(self.tokens, self.types) if ty == 4 and not t.startswith('<｜fim')], key=len, reverse=True)
        self._ud_re = re.compile('|'.join(re.escape(t) for t in self.user_defined))
        self.cache = {}

    def _bpe_word(self, w):
        ids = self.cache.get(w)
        if ids is not None: return ids
        word = list(''.join(self.b2u[b] for b in w.encode('utf-8')))
        ranks = self.ranks
        while len(word) > 1:
            best = None; bi = -1
            for i in range(len(word) - 1):
                r = ranks.get((word[i], word[i+1]))
                if r is not None and (best is None or r < best): best, bi = r, i
            if best is None: break
            a, b = word[bi], word[bi+1]; new = []; i = 0
            while i < len(word):
                if i < len(word)-1 and word[i] == a and word[i+1] == b: new.append(a+b); i += 2
                else: new.append(word[i]); i += 1
            word = new
        ids = []
        for sym in word:
            t = self.tok2id.get(sym)
            if t is None:   # llama.cpp falls back to single byte tokens
                ids.extend(self.tok2id[ch] for ch in sym)
            else: ids.append(t)
        if len(self.cache) < 2_000_000: self.cache[w] = ids
        return ids

    def encode(self, text, add_bos=False):
        out = [self.bos] if add_bos else []
        parts = [text] if text.isascii() else None
        if parts is None:   # split out user-defined tokens (always matched by llama.cpp)
            parts = []; pos = 0
            for m in self._ud_re.finditer(text):
                if m.start() > pos: parts.append(text[pos:m.start()])
                parts.append((self.tok2id[m.group(0)],)); pos = m.end()
            if pos < len(text): parts.append(text[pos:])
        for p in parts:
            if isinstance(p, tuple): out.append(p[0]); continue
            for w in pretokenize(p):
                out.extend(self._bpe_word(w))
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if self.types[i] in (3, 4): bs += t.encode()   # control/user-defined: raw text (as llama.cpp)
            else: bs += bytes(self.u2b[c] for c in t)
        return bs.decode('utf-8', errors='replace')

if __name__ == '__main__':
    # verify against llama.cpp's test vectors
    tok = Tokenizer()
    base = VOCAB_GGUF
    raw = open(base + '.inp', encoding='utf-8', newline='').read()
    inps = raw.split('\n__ggml_vocab_test__\n')
    if inps and inps[-1] == '': inps.pop()
    outs = open(base + '.out', encoding='utf-8', newline='').read().split('\n')
    ok = 0
    for i, s in enumerate(inps):
        exp = [int(x) for x in outs[i].split()]
        got = tok.encode(s)
        if got == exp: ok += 1
        else: print('MISMATCH', repr(s)[:80], '\n  exp', exp[:30], '\n  got', got[:30])
    print(f'{ok}/{len(inps)} test vectors match')
