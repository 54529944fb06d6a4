#!/usr/bin/env python3
"""RANDOM-WEIGHT model of a real shape, the cost reference for the grown target (grow_target.py):
a llama GGUF with the deepseek-coder tokenizer and random weights. Defaults: TinyLlama-1.1B's shape
(d=2048, 22 layers, FFN 5632, 32/4 heads), Q8_0 like the grown target. Not committed; deterministic.

usage: make_random_llama.py OUT.gguf [--layers 22 --embd 2048 --heads 32 --kv-heads 4 --ff 5632]
                            [--dtype q8_0|f16|f32] [--seed 0] [--tied]
"""
import argparse
import sys

import numpy as np
from common import gguf_module, VOCAB_GGUF
gguf = gguf_module()
from gguf import GGUFReader, GGUFWriter, GGUFValueType, GGMLQuantizationType

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--vocab", default=VOCAB_GGUF)
ap.add_argument("--layers", type=int, default=22)
ap.add_argument("--embd", type=int, default=2048)
ap.add_argument("--heads", type=int, default=32)
ap.add_argument("--kv-heads", type=int, default=4)
ap.add_argument("--ff", type=int, default=5632)
ap.add_argument("--ctx", type=int, default=4096)
ap.add_argument("--dtype", choices=["f32", "f16", "q8_0"], default="q8_0")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--tied", action="store_true", help="omit output.weight (tie to token_embd)")
args = ap.parse_args()

rd = GGUFReader(args.vocab)
n_vocab = len(rd.fields["tokenizer.ggml.tokens"].data)

w = GGUFWriter(args.out, "llama")
w.add_name(f"random-llama-{args.layers}L-{args.embd}d")
w.add_context_length(args.ctx)
w.add_embedding_length(args.embd)
w.add_block_count(args.layers)
w.add_feed_forward_length(args.ff)
w.add_head_count(args.heads)
w.add_head_count_kv(args.kv_heads)
w.add_rope_dimension_count(args.embd // args.heads)
w.add_rope_freq_base(10000.0)
w.add_layer_norm_rms_eps(1e-5)
w.add_vocab_size(n_vocab)
w.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[args.dtype])

# copy every tokenizer.* key verbatim (type-preserving)
for key, f in rd.fields.items():
    if not key.startswith("tokenizer."):
        continue
    vtype = f.types[0]
    if vtype == GGUFValueType.ARRAY:
        w.add_key_value(key, f.contents(), vtype, sub_type=f.types[-1])
    else:
        w.add_key_value(key, f.contents(), vtype)
    print("copied", key, file=sys.stderr)

rng = np.random.default_rng(args.seed)
dt = np.float16 if args.dtype == "f16" else np.float32
hd = args.embd // args.heads
QT = GGMLQuantizationType.Q8_0 if args.dtype == "q8_0" else None

def mat(rows, cols, scale=None):
    # numpy shape (rows, cols) == ggml ne = [cols, rows]; y = W x with x of length cols
    s = scale if scale is not None else 1.0 / np.sqrt(cols)
    m = (rng.standard_normal((rows, cols), dtype=np.float32) * s).astype(dt)
    if args.dtype == "q8_0":
        return gguf.quants.quantize(m, GGMLQuantizationType.Q8_0)
    return m

def norm(n):
    return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)  # norms stay f32

E = args.embd
w.add_tensor("token_embd.weight", mat(n_vocab, E, scale=1.0), raw_dtype=QT)
for i in range(args.layers):
    p = f"blk.{i}."
    w.add_tensor(p + "attn_norm.weight", norm(E))
    w.add_tensor(p + "attn_q.weight", mat(args.heads * hd, E), raw_dtype=QT)
    w.add_tensor(p + "attn_k.weight", mat(args.kv_heads * hd, E), raw_dtype=QT)
    w.add_tensor(p + "attn_v.weight", mat(args.kv_heads * hd, E), raw_dtype=QT)
    w.add_tensor(p + "attn_output.weight", mat(E, args.heads * hd), raw_dtype=QT)
    w.add_tensor(p + "ffn_norm.weight", norm(E))
    w.add_tensor(p + "ffn_gate.weight", mat(args.ff, E), raw_dtype=QT)
    w.add_tensor(p + "ffn_up.weight", mat(args.ff, E), raw_dtype=QT)
    w.add_tensor(p + "ffn_down.weight", mat(E, args.ff), raw_dtype=QT)
w.add_tensor("output_norm.weight", norm(E))
if not args.tied:
    w.add_tensor("output.weight", mat(n_vocab, E), raw_dtype=QT)

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file(progress=False)
w.close()

n_params = n_vocab * E * (1 if args.tied else 2) + E + args.layers * (
    2 * E + 2 * args.heads * hd * E + 2 * args.kv_heads * hd * E + 3 * args.ff * E)
print(f"wrote {args.out}: n_vocab={n_vocab} params={n_params/1e6:.1f}M dtype={args.dtype}")
