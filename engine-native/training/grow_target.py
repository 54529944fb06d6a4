#!/usr/bin/env python3
"""GROWN TARGET (synthetic, for cost realism only): grow the trained target function-preservingly
into the shape of a real ~1B model (default TinyLlama-1.1B: d=2048, 22 layers, FFN 5632, 32 heads,
4 KV heads, head dim 64). Its next-token distribution is the trained target's; its compute cost is
a real 1B model's. It knows nothing more than the small target. Not committed; deterministic; run by
the benchmark.

usage: grow_target.py OUT.gguf [--src ../../models/specexec-target.gguf] [--d 2048 --layers 22 --ffn 5632
                               --heads 32 --kv 4] [--type q8_0|f16] [--seed 0]
How the function is preserved (all in the HF layout; export_gguf.write_gguf applies the RoPE permutation):
 * residual stream widened d -> D with zeros: embeddings and every output projection (o_proj, down_proj)
   write only the first d dims, so the extra dims stay exactly 0;
 * RMSNorm averages over D instead of d: mean-square shrinks by r = d/D, so every norm weight is
   multiplied by sqrt(r) and eps by r:  x/sqrt(r*(ms+eps)) * g*sqrt(r) == x/sqrt(ms+eps) * g  (exact);
 * attention: head dim kept (64); the trained heads are placed in the new GQA groups so each still
   reads its own KV head (group g of the small model -> group g of the big one); all other heads have
   zero query/key/value rows and zero o_proj columns;
 * FFN widened with zero gate/up rows and zero down columns (silu(0)*0 = 0);
 * added layers are identities: random q/k/v/gate/up (realistic values) but zero o_proj and down_proj,
   interleaved evenly between the trained layers.
Check with grow_check.mjs: llama.cpp's greedy output of the grown model equals the trained target's."""
import argparse, os, time, numpy as np
from common import REPO
from gguf_import import read_gguf
from export_gguf import write_gguf

ap = argparse.ArgumentParser()
ap.add_argument('out')
ap.add_argument('--src', default=os.path.join(REPO, 'models', 'specexec-target.gguf'))
ap.add_argument('--d', type=int, default=2048); ap.add_argument('--layers', type=int, default=22)
ap.add_argument('--ffn', type=int, default=5632); ap.add_argument('--heads', type=int, default=32)
ap.add_argument('--kv', type=int, default=4); ap.add_argument('--type', default='q8_0', choices=['q8_0', 'f16', 'f32'])
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
t0 = time.time()
c, sd = read_gguf(a.src)
d, D, hd = c['d'], a.d, c['d'] // c['n_head']
H, KV, h, kv = a.heads, a.kv, c['n_head'], c['n_kv_head']
assert D % H == 0 and D // H == hd, f'head dim must stay {hd}: D/heads = {D / H}'
assert H % KV == 0 and h % kv == 0 and KV >= kv and H // KV >= h // kv
assert a.layers >= c['n_layer'] and a.ffn >= c['ffn'] and D >= d
r = d / D
rng = np.random.default_rng(a.seed)
G, g = H // KV, h // kv                       # heads per KV group (big, small)
head_map = {i: (i // g) * G + (i % g) for i in range(h)}   # small head -> big head slot (same KV group index)

def pad(w, rows, cols):
    out = np.zeros((rows, cols), np.float32); out[:w.shape[0], :w.shape[1]] = w; return out

def grow_layer(p):
    q = np.zeros((H * hd, D), np.float32); o = np.zeros((D, H * hd), np.float32)
    for i, j in head_map.items():
        q[j * hd:(j + 1) * hd, :d] = p['q'][i * hd:(i + 1) * hd]
        o[:d, j * hd:(j + 1) * hd] = p['o'][:, i * hd:(i + 1) * hd]
    return dict(q=q, k=pad(p['k'], KV * hd, D), v=pad(p['v'], KV * hd, D), o=o,
                gate=pad(p['gate'], a.ffn, D), up=pad(p['up'], a.ffn, D), down=pad(p['down'], D, a.ffn),
                n1=np.concatenate([p['n1'] * np.sqrt(r), np.ones(D - d, np.float32)]).astype(np.float32),
                n2=np.concatenate([p['n2'] * np.sqrt(r), np.ones(D - d, np.float32)]).astype(np.float32))

def identity_layer():
    rnd = lambda rows, cols: (rng.standard_normal((rows, cols), dtype=np.float32) * (1 / np.sqrt(cols))).astype(np.float32)
    return dict(q=rnd(H * hd, D), k=rnd(KV * hd, D), v=rnd(KV * hd, D), o=np.zeros((D, H * hd), np.float32),
                gate=rnd(a.ffn, D), up=rnd(a.ffn, D), down=np.zeros((D, a.ffn), np.float32),
                n1=np.ones(D, np.float32), n2=np.ones(D, np.float32))

small = []
for i in range(c['n_layer']):
    P = f'layers.{i}.'
    small.append(dict(q=sd[P + 'self_attn.q_proj.weight'], k=sd[P + 'self_attn.k_proj.weight'], v=sd[P + 'self_attn.v_proj.weight'],
                      o=sd[P + 'self_attn.o_proj.weight'], gate=sd[P + 'mlp.gate_proj.weight'], up=sd[P + 'mlp.up_proj.weight'],
                      down=sd[P + 'mlp.down_proj.weight'], n1=sd[P + 'input_layernorm.weight'], n2=sd[P + 'post_attention_layernorm.weight']))
# trained layers at evenly spaced positions, identities in between
pos = set(int(round(i * (a.layers - 1) / max(c['n_layer'] - 1, 1))) for i in range(c['n_layer']))
assert len(pos) == c['n_layer']
layers = []; it = iter(small)
for L in range(a.layers):
    layers.append(grow_layer(next(it)) if L in pos else identity_layer())
out = {'embed_tokens.weight': pad(sd['embed_tokens.weight'], c['vocab'], D),
       'norm.weight': np.concatenate([sd['norm.weight'] * np.sqrt(r), np.ones(D - d, np.float32)]).astype(np.float32)}
if not c['tied']: out['lm_head.weight'] = pad(sd['lm_head.weight'], c['vocab'], D)
names = dict(q='self_attn.q_proj', k='self_attn.k_proj', v='self_attn.v_proj', o='self_attn.o_proj', gate='mlp.gate_proj',
             up='mlp.up_proj', down='mlp.down_proj', n1='input_layernorm', n2='post_attention_layernorm')
for L, p in enumerate(layers):
    for k, n in names.items(): out[f'layers.{L}.{n}.weight'] = p[k]
gc = dict(c, d=D, n_layer=a.layers, ffn=a.ffn, n_head=H, n_kv_head=KV, eps=c['eps'] * r)
params = sum(v.size for v in out.values())
os.makedirs(os.path.dirname(os.path.abspath(a.out)) or '.', exist_ok=True)
tmp = a.out + '.tmp'
write_gguf(tmp, gc, out, a.type, name='specexec-target-GROWN-1.1B-shape',
           description=('GROWN TARGET, synthetic: the bundled ~10M-parameter target grown function-preservingly into '
                        f'TinyLlama-1.1B shape (d={D}, {a.layers} layers, ffn {a.ffn}, {H}/{KV} heads) for realistic cost '
                        'measurements only. Same outputs as the small target; it is NOT a 1B-quality model.'))
os.replace(tmp, a.out)
print(f'wrote {a.out}: GROWN target, {params/1e6:.0f}M params, {a.type}, {os.path.getsize(a.out)/1e9:.2f} GB in {time.time()-t0:.0f}s')
