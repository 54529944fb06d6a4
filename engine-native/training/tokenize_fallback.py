#!/usr/bin/env python3
"""FALLBACK for step 2 when the engine addon is not built yet: same outputs as tokenize_corpus.mjs,
produced with bpe_tok.py (a pure-Python port of llama.cpp's deepseek-coder BPE, identical on
llama.cpp's 46 test vectors and on 490 held-out files). check_tokens.mjs verifies a tokenization
against the engine's tokenizer afterwards.
usage: tokenize_fallback.py [nproc] [--force]"""
import json, sys, os, time, numpy as np, multiprocessing as mp, collections
from common import WORK, TOK, CORPUS, BOS, EOS
from bpe_tok import Tokenizer
tok = None
def init():
    global tok; tok = Tokenizer()
def work(line):
    d = json.loads(line)
    ids = [BOS] + tok.encode(d['text']) + [EOS]
    return d['lang'], d['path'], d['sha1'], np.array(ids, dtype=np.uint16).tobytes(), len(d['text'].encode())
if __name__ == '__main__':
    os.makedirs(TOK, exist_ok=True)
    nproc = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    force = '--force' in sys.argv
    meta = dict(tokenizer='FALLBACK bpe_tok.py (pure-Python port of llama.cpp deepseek-coder BPE)', splits={})
    for split in ['val', 'train']:
        done = os.path.join(TOK, f'{split}.done')
        if os.path.exists(done) and not force:
            print(split, 'already tokenized, skipping'); meta['splits'][split] = json.load(open(done)); continue
        t0 = time.time(); files = {}; ntok = collections.Counter(); nbytes = collections.Counter(); ndocs = 0
        index = open(os.path.join(TOK, f'{split}_index.jsonl.tmp'), 'w')
        with mp.Pool(nproc, initializer=init) as pool, open(os.path.join(CORPUS, f'{split}.jsonl')) as f:
            for lang, path, sha1, b, nb in pool.imap(work, f, chunksize=8):
                if lang not in files: files[lang] = open(os.path.join(TOK, f'{split}_{lang}.bin.tmp'), 'wb')
                index.write(json.dumps(dict(lang=lang, path=path, sha1=sha1, start=ntok[lang], len=len(b) // 2)) + '\n')
                files[lang].write(b); ntok[lang] += len(b) // 2; nbytes[lang] += nb; ndocs += 1
        for lang, fh in files.items():
            fh.close(); os.replace(os.path.join(TOK, f'{split}_{lang}.bin.tmp'), os.path.join(TOK, f'{split}_{lang}.bin'))
        index.close(); os.replace(os.path.join(TOK, f'{split}_index.jsonl.tmp'), os.path.join(TOK, f'{split}_index.jsonl'))
        dt = time.time() - t0
        info = dict(docs=ndocs, seconds=round(dt), tokens=dict(ntok), bytes=dict(nbytes),
                    bytes_per_token={k: round(nbytes[k] / ntok[k], 3) for k in ntok}, tokenizer=meta['tokenizer'])
        json.dump(info, open(done, 'w')); meta['splits'][split] = info
        print(f'{split}: {sum(ntok.values())/1e6:.2f}M tokens in {dt:.0f}s', info['bytes_per_token'], flush=True)
    json.dump(meta, open(os.path.join(TOK, 'meta.json'), 'w'), indent=1)
