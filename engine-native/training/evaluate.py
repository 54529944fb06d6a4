#!/usr/bin/env python3
"""Step 6: held-out evaluation of the shipped pair (the weights imported back from the GGUFs).

usage: evaluate.py DRAFT.gguf TARGET.gguf [--windows 12] [--out work/eval.json]
Per language (plain windows of 512 held-out tokens): loss (nats/token) of draft and target, top-1
accuracy, mean top-1 probability, and draft/target agreement: the target's top-1 token inside the
draft's top-1 / top-4 / top-16, and sum(min(p_d, p_t)) (1 - total variation). Also the loss on the
middle part of fill-in-the-middle formatted held-out windows."""
import argparse, json, os, time, numpy as np, torch
from common import TOK, WORK, LANGS, BOS, FIM_PRE, FIM_SUF, FIM_MID
from gguf_import import load_model
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
ap = argparse.ArgumentParser()
ap.add_argument('draft'); ap.add_argument('target')
ap.add_argument('--windows', type=int, default=12); ap.add_argument('--ctx', type=int, default=512)
ap.add_argument('--fim-windows', type=int, default=4)
ap.add_argument('--out', default=os.path.join(WORK, 'eval.json'))
a = ap.parse_args()
D, _ = load_model(a.draft); Tm, _ = load_model(a.target)
rng = np.random.default_rng(4321); T = a.ctx
out = dict(draft=a.draft, target=a.target, windows_per_lang=a.windows, ctx=T, per_lang={})
tot = {}
t0 = time.time()
for lang in LANGS:
    d = np.memmap(os.path.join(TOK, f'val_{lang}.bin'), dtype=np.uint16, mode='r')
    xs = torch.stack([torch.from_numpy(d[i:i + T + 1].astype(np.int64)) for i in rng.integers(0, len(d) - T - 1, a.windows)])
    x, y = xs[:, :-1], xs[:, 1:].reshape(-1)
    with torch.no_grad():
        ld = torch.cat([D(x[i:i + 2]).float() for i in range(0, len(x), 2)]).reshape(-1, 32256).log_softmax(-1)
        lt = torch.cat([Tm(x[i:i + 2]).float() for i in range(0, len(x), 2)]).reshape(-1, 32256).log_softmax(-1)
    pd, pt = ld.exp(), lt.exp()
    ad, at = ld.argmax(-1), lt.argmax(-1); topd = ld.topk(16, -1).indices
    r = dict(nll_draft=-ld.gather(1, y[:, None]).squeeze(1), nll_target=-lt.gather(1, y[:, None]).squeeze(1),
             acc_draft=(ad == y).float(), acc_target=(at == y).float(),
             top1p_draft=pd.max(-1).values, top1p_target=pt.max(-1).values,
             t_in_d_top1=(ad == at).float(), t_in_d_top4=(topd[:, :4] == at[:, None]).any(-1).float(),
             t_in_d_top16=(topd == at[:, None]).any(-1).float(), one_minus_tv=torch.minimum(pd, pt).sum(-1))
    # fill-in-the-middle: BOS <pre> prefix <suf> suffix <mid> middle; loss on the middle only
    fimd, fimt = [], []
    for i in rng.integers(0, len(d) - T, a.fim_windows):
        w = d[i:i + T - 4].astype(np.int64); n = len(w)
        c1 = int(rng.integers(n // 4, n // 2)); c2 = c1 + int(rng.integers(8, 64))
        seq = np.concatenate([[BOS, FIM_PRE], w[:c1], [FIM_SUF], w[c2:], [FIM_MID], w[c1:c2]])
        st = len(seq) - (c2 - c1)   # first middle token position
        s = torch.from_numpy(seq)[None]
        with torch.no_grad():
            for M, acc in ((D, fimd), (Tm, fimt)):
                lp = M(s[:, :-1]).float().log_softmax(-1)[0]
                acc.append(-lp[st - 1:, :].gather(1, s[0, st:, None]).squeeze(1))
    r['fim_middle_nll_draft'] = torch.cat(fimd); r['fim_middle_nll_target'] = torch.cat(fimt)
    out['per_lang'][lang] = {k: round(v.mean().item(), 4) for k, v in r.items()}
    for k, v in r.items(): tot.setdefault(k, []).append(v)
    print(lang, json.dumps(out['per_lang'][lang]), f'{time.time() - t0:.0f}s', flush=True)
out['all'] = {k: round(torch.cat(v).mean().item(), 4) for k, v in tot.items()}
print('all', json.dumps(out['all']))
json.dump(out, open(a.out, 'w'), indent=1)
print('wrote', a.out)
