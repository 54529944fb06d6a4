#!/usr/bin/env python3
"""Write a small random-weight GGUF of architecture `llama` with the deepseek-coder tokenizer copied
from the pinned llama.cpp source. Deterministic for a given seed and shape. Used by the tests as a
draft/target pair that loads and runs like any downloaded model.

usage: make_test_model.py OUT.gguf [--layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --seed 0]
                          [--dtype f32|f16|q8_0] [--tied] [--noise X] [--vocab V.gguf] [--arch NAME]
                          [--name NAME] [--finetune TEXT] [--pad-vocab N] [--set-token ID=TEXT]...
                          [--kv KEY=JSON]... [--split-max-tensors N]
       (gguf-py and the vocab are taken from build/llama.cpp unless --llama-src says otherwise)
A real model's shape with random weights is the cost reference for the grown target, e.g. TinyLlama-1.1B:
       make_test_model.py random-1.1b.gguf --layers 22 --embd 2048 --heads 32 --kv-heads 4 --ff 5632 --dtype q8_0 --tied
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--llama-src", default=os.environ.get("LLAMA_CPP_SRC", os.path.join(ROOT, "build", "llama.cpp")))
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--embd", type=int, default=64)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--kv-heads", type=int, default=2)
ap.add_argument("--ff", type=int, default=128)
ap.add_argument("--ctx", type=int, default=4096)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--dtype", choices=["f32", "f16", "q8_0"], default="f32")
ap.add_argument("--tied", action="store_true", help="no output.weight: the output layer reuses token_embd")
ap.add_argument("--vocab", help="vocab GGUF whose tokenizer to copy (default: deepseek-coder's)")
ap.add_argument("--arch", default="llama", help="architecture name written into the file (tests use a bogus one)")
ap.add_argument("--noise", type=float, default=0.0,
                help="relative gaussian noise added to every weight (a draft that partly agrees with the "
                     "model of the same seed and shape)")
ap.add_argument("--name", help="general.name (default: specexec-test-<shape>)")
ap.add_argument("--finetune", help="general.finetune, e.g. Instruct (the model catalogue flags chat models by it)")
ap.add_argument("--pad-vocab", type=int, default=0,
                help="append N [PAD<id>] tokens, as convert_hf_to_gguf.py pads a vocabulary to the model's size")
ap.add_argument("--set-token", action="append", default=[], metavar="ID=TEXT", help="replace the text of one token")
ap.add_argument("--kv", action="append", default=[], metavar="KEY=JSON",
                help="set a metadata key (JSON bool, integer (uint32) or string; null removes a tokenizer key)")
ap.add_argument("--split-max-tensors", type=int, default=0,
                help="write OUT-0000i-of-0000N.gguf shards of at most N tensors, as gguf-split does")
ap.add_argument("--logit-scale", type=float, default=4.0,
                help="scales the output layer: peaked distributions keep greedy decoding robust to batching noise")
args = ap.parse_args()

sys.path.insert(0, os.path.join(args.llama_src, "gguf-py"))
try:
    import numpy as np
    import gguf
except ImportError as e:
    sys.exit(f"make_test_model.py: {e}. Install numpy (apt-get install python3-numpy) and run `npm run build` "
             "so that build/llama.cpp/gguf-py exists.")

vocab_path = args.vocab or os.path.join(args.llama_src, "models", "ggml-vocab-deepseek-coder.gguf")
rd = gguf.GGUFReader(vocab_path)


def tokenizer_fields():
    """The vocab GGUF's tokenizer keys as {key: [value, type, sub_type]}, with the requested edits."""
    fields = {}
    for key, f in rd.fields.items():
        if key.startswith("tokenizer."):
            fields[key] = [f.contents(), f.types[0], f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None]
    tokens = fields["tokenizer.ggml.tokens"][0]
    for edit in args.set_token:
        token_id, text = edit.split("=", 1)
        tokens[int(token_id)] = text
    n = len(tokens)
    tokens.extend(f"[PAD{i}]" for i in range(n, n + args.pad_vocab))
    if "tokenizer.ggml.token_type" in fields:
        fields["tokenizer.ggml.token_type"][0].extend([int(gguf.TokenType.UNUSED)] * args.pad_vocab)
    if "tokenizer.ggml.scores" in fields:
        fields["tokenizer.ggml.scores"][0].extend([-1000.0] * args.pad_vocab)
    return fields


def json_kv(spec):
    key, text = spec.split("=", 1)
    value = json.loads(text)
    if value is None or isinstance(value, str):
        return key, value, gguf.GGUFValueType.STRING
    if isinstance(value, bool):
        return key, value, gguf.GGUFValueType.BOOL
    return key, value, gguf.GGUFValueType.UINT32


tok_fields = tokenizer_fields()
extra_kv = []  # --kv keys that are not the tokenizer's
for key, value, vtype in map(json_kv, args.kv):
    if key in tok_fields and value is None:
        del tok_fields[key]
    elif key in tok_fields:
        tok_fields[key] = [value, vtype, None]
    elif value is not None:
        extra_kv.append((key, value, vtype))
n_vocab = len(tok_fields["tokenizer.ggml.tokens"][0])

split = args.split_max_tensors > 0
# shards are named after the path the writer gets, so a split model is written in place
tmp = args.out if split else args.out + ".tmp"
w = gguf.GGUFWriter(tmp, args.arch, split_max_tensors=args.split_max_tensors)
w.add_name(args.name or f"specexec-test-{args.layers}L-{args.embd}d-seed{args.seed}")
if args.finetune:
    w.add_finetune(args.finetune)
for key, value, vtype in extra_kv:
    w.add_key_value(key, value, vtype)
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
w.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[args.dtype])
for key, (value, vtype, sub_type) in tok_fields.items():  # the tokenizer, verbatim unless edited above
    w.add_key_value(key, value, vtype, sub_type=sub_type)

rng = np.random.default_rng(args.seed)
noise_rng = np.random.default_rng(args.seed + 1_000_003)
E, hd = args.embd, args.embd // args.heads


def mat(rows, cols, scale=None):
    # numpy shape (rows, cols) is ggml ne = [cols, rows]
    s = scale if scale is not None else 1.0 / np.sqrt(cols)
    m = rng.standard_normal((rows, cols), dtype=np.float32)
    if args.noise > 0:
        m += args.noise * noise_rng.standard_normal((rows, cols), dtype=np.float32)
    m = (m * s).astype(np.float16 if args.dtype == "f16" else np.float32)
    return gguf.quants.quantize(m, gguf.GGMLQuantizationType.Q8_0) if args.dtype == "q8_0" else m


QT = gguf.GGMLQuantizationType.Q8_0 if args.dtype == "q8_0" else None


def norm(n):
    return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)


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
    w.add_tensor("output.weight", mat(n_vocab, E, scale=args.logit_scale / np.sqrt(E)), raw_dtype=QT)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file(progress=False)
w.close()
if not split:
    os.replace(tmp, args.out)
print(f"wrote {args.out}")
