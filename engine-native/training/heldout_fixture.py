#!/usr/bin/env python3
"""Held-out token windows for the engine-side loss test (target below draft), one or more per language.
usage: heldout_fixture.py [--out ../../test/fixtures/heldout-tokens.json] [--per-lang 1] [--len 256]"""
import argparse, json, os, numpy as np
from common import TOK, REPO, LANGS, BOS
ap = argparse.ArgumentParser()
ap.add_argument('--out', default=os.path.join(REPO, 'test', 'fixtures', 'heldout-tokens.json'))
ap.add_argument('--per-lang', type=int, default=1); ap.add_argument('--len', type=int, default=256)
a = ap.parse_args()
idx = [json.loads(l) for l in open(os.path.join(TOK, 'val_index.jsonl'))]
rng = np.random.default_rng(99); wins = []
for lang in LANGS:
    data = np.memmap(os.path.join(TOK, f'val_{lang}.bin'), dtype=np.uint16, mode='r')
    docs = [d for d in idx if d['lang'] == lang and d['len'] >= a.len]
    for j in rng.choice(len(docs), a.per_lang, replace=False):
        d = docs[j]; t = data[d['start']:d['start'] + a.len].astype(int).tolist()
        assert t[0] == BOS
        wins.append(dict(lang=lang, path=os.path.basename(d['path']), tokens=t))
json.dump(dict(description='held-out token windows (BOS + start of a held-out file), engine tokenizer', windows=wins),
          open(a.out, 'w'), separators=(',', ':'))
print('wrote', a.out, len(wins), 'windows')
