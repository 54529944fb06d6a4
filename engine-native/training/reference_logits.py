#!/usr/bin/env python3
"""Step 5a: torch reference logits on held-out text, written as a small committed test fixture.

usage: reference_logits.py MODEL.gguf OUT.json [--ckpt CKPT.pt] [--lang ts] [--n 128] [--topk 8] [--probes 8]
The reference runs the PyTorch model (model.py) on the weights imported back from the GGUF
(gguf_import.py: dequantized, RoPE permutation undone), so the comparison with the engine tests the
export (tensor names, layout, Q/K permutation, hyper-parameters, tokenizer ids) and llama.cpp's
forward pass, not the Q8_0 rounding. With --ckpt it also reports how far the quantized weights move
the logits from the fp32 training checkpoint (informational).
Fixture: tokens (BOS + the start of a held-out file), for every position the torch top-k ids/logits
and the logits of fixed probe ids, plus the model file's sha256."""
import argparse, hashlib, json, os, numpy as np, torch
from common import TOK, REPO, BOS
from gguf_import import load_model, load_ckpt
torch.set_num_threads(int(os.environ.get('THREADS', '1')))
ap = argparse.ArgumentParser()
ap.add_argument('gguf'); ap.add_argument('out'); ap.add_argument('--ckpt', default=None)
ap.add_argument('--lang', default='ts'); ap.add_argument('--n', type=int, default=128)
ap.add_argument('--topk', type=int, default=8); ap.add_argument('--probes', type=int, default=8)
ap.add_argument('--doc', type=int, default=3, help='index of the held-out document of that language')
a = ap.parse_args()

idx = [json.loads(l) for l in open(os.path.join(TOK, 'val_index.jsonl'))]
docs = [d for d in idx if d['lang'] == a.lang and d['len'] >= a.n]
doc = docs[a.doc]
data = np.memmap(os.path.join(TOK, f"val_{a.lang}.bin"), dtype=np.uint16, mode='r')
toks = data[doc['start']:doc['start'] + a.n].astype(np.int64)
assert toks[0] == BOS
m, c = load_model(a.gguf)
with torch.no_grad():
    L = m(torch.from_numpy(toks)[None])[0].float()          # (n, vocab)
probe_ids = np.random.default_rng(7).choice(c['vocab'], a.probes, replace=False).tolist()
top = L.topk(a.topk, -1)
rel = lambda p: os.path.relpath(os.path.abspath(p), REPO)
fx = dict(
    description='torch reference logits (model.py on the weights imported from the GGUF) for the export test',
    model=rel(a.gguf), model_sha256=hashlib.sha256(open(a.gguf, 'rb').read()).hexdigest(),
    source=dict(lang=a.lang, path=doc['path'], split='held-out'),
    n_vocab=c['vocab'], tokens=toks.tolist(), probe_ids=probe_ids,
    top_ids=top.indices.tolist(), top_logits=[[round(x, 4) for x in r] for r in top.values.tolist()],
    probe_logits=[[round(x, 4) for x in r] for r in L[:, probe_ids].tolist()],
    logit_std=round(L.std().item(), 4),
)
if a.ckpt:
    mc, _ = load_ckpt(a.ckpt)
    with torch.no_grad():
        Lc = mc(torch.from_numpy(toks)[None])[0].float()
    fx['fp32_checkpoint_vs_gguf'] = dict(max_abs_diff=round((Lc - L).abs().max().item(), 4),
                                         argmax_agreement=round((Lc.argmax(-1) == L.argmax(-1)).float().mean().item(), 4))
    print('fp32 checkpoint vs imported gguf:', fx['fp32_checkpoint_vs_gguf'])
os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
json.dump(fx, open(a.out, 'w'), separators=(',', ':'))
print(f'wrote {a.out} ({os.path.getsize(a.out)} bytes), {len(toks)} tokens from {doc["path"]}, logit std {fx["logit_std"]}')
