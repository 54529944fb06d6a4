#!/usr/bin/env python3
"""Step 4: export a training checkpoint to a llama.cpp GGUF (architecture `llama`).

usage: export_gguf.py CKPT.pt OUT.gguf [--type q8_0|f16|f32] [--name NAME] [--no-permute]
  CKPT is work/ckpt/NAME/final.pt (or last.pt while training runs; reading it is safe, it is
  replaced atomically). Tokenizer metadata (deepseek-coder BPE incl. FIM ids) is copied verbatim
  from the vocab GGUF. Q and K projection rows are permuted the way llama.cpp's
  convert_hf_to_gguf.py does (HF rotate_half RoPE layout -> GGML's interleaved layout).
  --no-permute is a NEGATIVE CONTROL only (verification must then fail).
  Q8_0 quantizes every 2-D weight (token embedding included); norms stay F32.
Deterministic: the same checkpoint gives the same bytes."""
import argparse, json, os, sys, numpy as np
from common import gguf_module, VOCAB_GGUF

def permute(w, n_head):   # == convert_hf_to_gguf.py LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

def write_gguf(out, c, sd, qtype='q8_0', name='specexec', description='', do_permute=True, extra_kv=None):
    """c: config dict (model.Cfg fields), sd: HF-named numpy float32 state dict"""
    gguf = gguf_module()
    Q = {'q8_0': gguf.GGMLQuantizationType.Q8_0, 'f16': gguf.GGMLQuantizationType.F16, 'f32': gguf.GGMLQuantizationType.F32}[qtype]
    FT = {'q8_0': gguf.LlamaFileType.MOSTLY_Q8_0, 'f16': gguf.LlamaFileType.MOSTLY_F16, 'f32': gguf.LlamaFileType.ALL_F32}[qtype]
    hd = c['d'] // c['n_head']
    w = gguf.GGUFWriter(out, 'llama')
    w.add_name(name)
    if description: w.add_description(description)
    w.add_context_length(c.get('ctx_export', 4096))
    w.add_embedding_length(c['d']); w.add_block_count(c['n_layer']); w.add_feed_forward_length(c['ffn'])
    w.add_head_count(c['n_head']); w.add_head_count_kv(c['n_kv_head']); w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(c['rope_base']); w.add_layer_norm_rms_eps(c['eps']); w.add_vocab_size(c['vocab'])
    w.add_file_type(FT)
    for k, v in (extra_kv or {}).items(): w.add_string(k, v)
    r = gguf.GGUFReader(VOCAB_GGUF)
    for key, f in r.fields.items():
        if not key.startswith('tokenizer.'): continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY: w.add_key_value(key, f.contents(), vt, sub_type=f.types[-1])
        else: w.add_key_value(key, f.contents(), vt)
    def T(tname, arr, mat=True):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if mat and Q != gguf.GGMLQuantizationType.F32:
            w.add_tensor(tname, gguf.quants.quantize(arr, Q), raw_dtype=Q)
        else:
            w.add_tensor(tname, arr)
    P = permute if do_permute else (lambda x, n: x)
    T('token_embd.weight', sd['embed_tokens.weight'])
    for i in range(c['n_layer']):
        p = f'layers.{i}.'; b = f'blk.{i}.'
        T(b + 'attn_norm.weight', sd[p + 'input_layernorm.weight'], False)
        T(b + 'attn_q.weight', P(sd[p + 'self_attn.q_proj.weight'], c['n_head']))
        T(b + 'attn_k.weight', P(sd[p + 'self_attn.k_proj.weight'], c['n_kv_head']))
        T(b + 'attn_v.weight', sd[p + 'self_attn.v_proj.weight'])
        T(b + 'attn_output.weight', sd[p + 'self_attn.o_proj.weight'])
        T(b + 'ffn_norm.weight', sd[p + 'post_attention_layernorm.weight'], False)
        T(b + 'ffn_gate.weight', sd[p + 'mlp.gate_proj.weight'])
        T(b + 'ffn_up.weight', sd[p + 'mlp.up_proj.weight'])
        T(b + 'ffn_down.weight', sd[p + 'mlp.down_proj.weight'])
    T('output_norm.weight', sd['norm.weight'], False)
    if not c.get('tied'): T('output.weight', sd['lm_head.weight'])
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt'); ap.add_argument('out')
    ap.add_argument('--type', default='q8_0', choices=['q8_0', 'f16', 'f32'])
    ap.add_argument('--name', default=None); ap.add_argument('--description', default='')
    ap.add_argument('--no-permute', action='store_true', help='negative control only')
    a = ap.parse_args()
    import torch  # only to read a training checkpoint: write_gguf itself needs numpy alone
    ck = torch.load(a.ckpt, map_location='cpu')
    c = ck['cfg']; sd = {k: v.float().numpy() for k, v in ck['state'].items()}
    prog = ck.get('progress', {})
    name = a.name or os.path.splitext(os.path.basename(a.out))[0]
    desc = a.description or (f"SpecExec Code bundled small offline demo/test model (NOT a useful completion model). "
                             f"llama arch, d={c['d']} L={c['n_layer']} heads={c['n_head']}/{c['n_kv_head']} ffn={c['ffn']} tied={c.get('tied')}; "
                             f"trained {prog.get('tokens', 0)} tokens; see models/MODEL_CARD.md")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + '.tmp'
    write_gguf(tmp, c, sd, a.type, name, desc, not a.no_permute,
               {'specexec.training.tokens': str(prog.get('tokens', 0)), 'specexec.training.steps': str(prog.get('step', 0))})
    os.replace(tmp, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out)/1e6:.1f} MB, {a.type}, step {prog.get('step')}, tokens {prog.get('tokens')})")
