#!/usr/bin/env python3
"""Import a llama GGUF written by export_gguf.py / grow_target.py back into the PyTorch model
(dequantizing Q8_0/F16 and undoing the RoPE Q/K permutation). Used to
  * compute the torch reference logits of exactly the weights the engine runs (verify_export.py),
  * resume training from an exported model if a checkpoint is lost (train.py-compatible .pt via --to-ckpt),
  * grow the shipped target (grow_target.py).
usage: gguf_import.py MODEL.gguf --to-ckpt OUT.pt"""
import sys, numpy as np
from common import gguf_module
# torch only where a torch model is built: reading a GGUF (grow_target.py) needs numpy alone

def unpermute(w, n_head):   # inverse of export_gguf.permute
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

def read_gguf(path):
    """-> (cfg dict, HF-named float32 numpy state dict)"""
    gguf = gguf_module()
    r = gguf.GGUFReader(path)
    f = r.fields
    val = lambda k: f[k].contents()
    c = dict(vocab=len(f['tokenizer.ggml.tokens'].data), d=int(val('llama.embedding_length')), n_layer=int(val('llama.block_count')),
             n_head=int(val('llama.attention.head_count')), n_kv_head=int(val('llama.attention.head_count_kv')),
             ffn=int(val('llama.feed_forward_length')), rope_base=float(val('llama.rope.freq_base')),
             eps=float(val('llama.attention.layer_norm_rms_epsilon')), ctx=512)
    T = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        T[t.name] = np.array(a, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)] if len(t.shape) > 1 else -1)
    c['tied'] = 'output.weight' not in T
    sd = {'embed_tokens.weight': T['token_embd.weight'], 'norm.weight': T['output_norm.weight']}
    for i in range(c['n_layer']):
        b = f'blk.{i}.'; p = f'layers.{i}.'
        sd[p + 'input_layernorm.weight'] = T[b + 'attn_norm.weight']
        sd[p + 'self_attn.q_proj.weight'] = unpermute(T[b + 'attn_q.weight'], c['n_head'])
        sd[p + 'self_attn.k_proj.weight'] = unpermute(T[b + 'attn_k.weight'], c['n_kv_head'])
        sd[p + 'self_attn.v_proj.weight'] = T[b + 'attn_v.weight']
        sd[p + 'self_attn.o_proj.weight'] = T[b + 'attn_output.weight']
        sd[p + 'post_attention_layernorm.weight'] = T[b + 'ffn_norm.weight']
        sd[p + 'mlp.gate_proj.weight'] = T[b + 'ffn_gate.weight']
        sd[p + 'mlp.up_proj.weight'] = T[b + 'ffn_up.weight']
        sd[p + 'mlp.down_proj.weight'] = T[b + 'ffn_down.weight']
    sd['lm_head.weight'] = T['token_embd.weight'] if c['tied'] else T['output.weight']
    return c, sd

def load_model(path):
    import torch
    from model import Cfg, LM
    c, sd = read_gguf(path)
    m = LM(Cfg(**c))
    m.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    m.eval()
    return m, c

def load_ckpt(path):
    import torch
    from model import Cfg, LM
    ck = torch.load(path, map_location='cpu')
    m = LM(Cfg(**ck['cfg'])); m.load_state_dict(ck['state']); m.eval()
    return m, ck

if __name__ == '__main__':
    import torch
    m, c = load_model(sys.argv[1])
    print(c, m.n_params())
    if '--to-ckpt' in sys.argv:
        out = sys.argv[sys.argv.index('--to-ckpt') + 1]
        torch.save(dict(cfg=m.c.__dict__, state=m.state_dict()), out)
        print('wrote', out, '(weights only: train.py can continue from it with a fresh optimizer)')
