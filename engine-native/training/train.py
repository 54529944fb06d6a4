#!/usr/bin/env python3
"""Step 3: time-budgeted, resumable training of a small llama-architecture code LM.

usage: train.py draft|target [--minutes M] [--threads 2] [...overrides]
  Checkpoints (model + optimizer + RNG + counters) go to work/ckpt/NAME/last.pt every --ckpt-every
  seconds and at the end (final.pt). Re-running the same command resumes from last.pt; the learning-
  rate schedule is a function of the accumulated TRAINING time, so an interrupted run resumes on
  schedule. Log: work/ckpt/NAME/log.jsonl.

Objective: next-token cross-entropy; --fim (default 0.5) of the samples are rearranged into
prefix-suffix-middle form  <BOS> <fim_pre> prefix <fim_suf> suffix <fim_mid> middle  (deepseek-coder ids
32016/32015/32017), the remaining ones are plain windows. Held-out loss is measured on plain windows
of the held-out files, per language.
Efficiency on 2 CPU cores: OpenBLAS fp32 (bf16 autocast only where the CPU has AVX512-BF16;
this machine's AMD EPYC has only AVX2, where bf16 matmul runs at 5 GFLOPS vs 136 fp32), a chunked fused output-layer/cross-
entropy (fused_ce.py) that never materialises the (tokens x 32k) logits."""
import argparse, time, json, math, os, sys, signal
def _threads_arg():
    for i, x in enumerate(sys.argv):
        if x == '--threads' and i + 1 < len(sys.argv): return sys.argv[i + 1]
        if x.startswith('--threads='): return x.split('=', 1)[1]
    return '2'
# Debian's torch uses OpenMP for its own ops but OpenBLAS (pthread build) keeps a separate pool that
# busy-waits: without this, --threads 1 still runs 2 BLAS threads and concurrent runs thrash.
os.environ.setdefault('OPENBLAS_NUM_THREADS', _threads_arg()); os.environ.setdefault('OMP_NUM_THREADS', _threads_arg())
import numpy as np, torch
from model import Cfg, LM
from common import TOK, CKPT, LANGS, BOS, FIM_PRE, FIM_SUF, FIM_MID

PRESETS = {
    # ~0.43M non-embedding params; untied (its embedding + head are cheap at d=128)
    'draft': dict(d=128, layers=2, heads=4, kv=4, ffn=384, tied=0, lr=2e-3, minutes=10),
    # ~9.4M non-embedding params, grouped-query attention 6/2, tied embeddings (keeps the GGUF small)
    'target': dict(d=384, layers=6, heads=6, kv=2, ffn=1024, tied=1, lr=1.5e-3, minutes=100),
}
ap = argparse.ArgumentParser()
ap.add_argument('name', help='draft | target (preset) or any name with explicit --preset')
ap.add_argument('--preset', default=None)
for k in ['d', 'layers', 'heads', 'kv', 'ffn', 'tied']: ap.add_argument('--' + k, type=int, default=None)
ap.add_argument('--lr', type=float, default=None); ap.add_argument('--minutes', type=float, default=None)
ap.add_argument('--ctx', type=int, default=512); ap.add_argument('--bs', type=int, default=4)
ap.add_argument('--wd', type=float, default=0.1); ap.add_argument('--warmup', type=int, default=100)
ap.add_argument('--bf16', type=int, default=0, help='bf16 autocast: only with AVX512-BF16 (fp32 is 30x faster without it)'); ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0); ap.add_argument('--fim', type=float, default=0.5)
ap.add_argument('--mix', default='py:0.25,ts:0.30,js:0.20,c:0.15,cpp:0.10')
ap.add_argument('--eval-every', type=float, default=300.0, help='seconds of training time')
ap.add_argument('--ckpt-every', type=float, default=240.0, help='seconds (wall)')
ap.add_argument('--fused', type=int, default=512, help='fused lm_head+CE chunk (0=off)')
ap.add_argument('--val-windows', type=int, default=8)
ap.add_argument('--max-tokens', type=int, default=0, help='token budget: the schedule also ends after this many training tokens')
ap.add_argument('--stop-at', type=float, default=0, help='unix time deadline: the schedule ends at the earlier of the budget and this time (counted from the first start)')
ap.add_argument('--extend-tokens', type=int, default=0, help='continue a FINISHED run for this many more training tokens: a new warm-up + cosine segment (warm restart)')
ap.add_argument('--extend-lr', type=float, default=None, help='peak learning rate of the --extend-tokens segment (default: half the preset lr)')
a = ap.parse_args()
pre = PRESETS[a.preset or a.name]
for k, v in pre.items():
    if getattr(a, k, None) is None: setattr(a, k, v)
torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
MM = torch.bfloat16 if a.bf16 else torch.float32
rng = np.random.default_rng(a.seed)
odir = os.path.join(CKPT, a.name); os.makedirs(odir, exist_ok=True)
cfg = Cfg(d=a.d, n_layer=a.layers, n_head=a.heads, n_kv_head=a.kv, ffn=a.ffn, ctx=a.ctx, tied=bool(a.tied))
model = LM(cfg); P = model.n_params()
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]; nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.wd}, {'params': nodecay, 'weight_decay': 0.0}],
                        lr=a.lr, betas=(0.9, 0.95), eps=1e-8, foreach=True)
st = dict(step=0, tokens=0, train_s=0.0, cpu_s=0.0, wall_s=0.0, evals=[], next_eval=0.0)
last = os.path.join(odir, 'last.pt')
if os.path.exists(os.path.join(odir, 'final.pt')) and not os.path.exists(last):
    last = os.path.join(odir, 'final.pt')
if os.path.exists(last):
    ck = torch.load(last, map_location='cpu')
    if ck.get('done') and not a.extend_tokens: print('already finished:', last); sys.exit(0)
    model.load_state_dict(ck['state']); opt.load_state_dict(ck['opt']); st = ck['progress']
    if ck.get('done'):
        # warm restart: the schedule restarts over a token budget; counters (tokens, CPU time) accumulate
        st['segment'] = dict(tokens0=st['tokens'], tokens=a.extend_tokens, step0=st['step'],
                             lr=a.extend_lr or a.lr / 2, utc=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        last = os.path.join(odir, 'last.pt')
    rng.bit_generator.state = ck['np_rng']; torch.set_rng_state(ck['torch_rng'])
    print(f"resumed from {last}: step {st['step']} tokens {st['tokens']} train_s {st['train_s']:.0f}", flush=True)

mix = {k: float(v) for k, v in (kv.split(':') for kv in a.mix.split(','))}
data = {k: np.memmap(os.path.join(TOK, f'train_{k}.bin'), dtype=np.uint16, mode='r') for k in mix}
langs = list(mix); probs = np.array([mix[k] for k in langs]); probs /= probs.sum()

def sample(T):
    """one training sequence of T+1 tokens: plain window or PSM fill-in-the-middle."""
    d = data[langs[rng.choice(len(langs), p=probs)]]
    if rng.random() < a.fim:
        # BOS first, as the engine assembles FIM prompts: BOS <fim_pre> prefix <fim_suf> suffix <fim_mid> middle
        n = T + 1 - 4; i = rng.integers(0, len(d) - n); w = d[i:i + n].astype(np.int64)
        c1, c2 = sorted(rng.integers(0, n + 1, size=2))
        return np.concatenate([[BOS, FIM_PRE], w[:c1], [FIM_SUF], w[c2:], [FIM_MID], w[c1:c2]])
    i = rng.integers(0, len(d) - T - 1); return d[i:i + T + 1].astype(np.int64)

def batch(B, T):
    x = torch.from_numpy(np.stack([sample(T) for _ in range(B)])); return x[:, :-1], x[:, 1:]

# fixed validation windows from held-out files (same seed for every model -> comparable numbers)
vrng = np.random.default_rng(1234); VAL = []
for k in LANGS:
    d = np.memmap(os.path.join(TOK, f'val_{k}.bin'), dtype=np.uint16, mode='r')
    for _ in range(a.val_windows):
        i = vrng.integers(0, len(d) - a.ctx - 1); VAL.append((k, torch.from_numpy(d[i:i + a.ctx + 1].astype(np.int64))))

@torch.no_grad()
def evaluate():
    model.eval(); res = {}
    for k in LANGS:
        xs = torch.stack([v for kk, v in VAL if kk == k])
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bool(a.bf16)):
            l = model.nll(xs[:, :-1], xs[:, 1:])
        res[k] = round(l, 4)
    model.train(); res['avg'] = round(sum(res.values()) / len(res), 4); return res

def save(path, done=False):
    tmp = path + '.tmp'
    torch.save(dict(cfg=cfg.__dict__, state=model.state_dict(), opt=opt.state_dict(), progress=st, done=done,
                    np_rng=rng.bit_generator.state, torch_rng=torch.get_rng_state(), args=vars(a), params=P), tmp)
    os.replace(tmp, path)

log = open(os.path.join(odir, 'log.jsonl'), 'a')
def emit(rec):
    s = json.dumps(rec); print(s, file=log, flush=True); print(s, flush=True)
emit(dict(start=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), cfg=cfg.__dict__, params=P, args=vars(a)))
budget = a.minutes * 60
t_seg = time.time(); c_seg = time.process_time(); train0 = st['train_s']; cpu0 = st['cpu_s']; wall0 = st['wall_s']
eval_time = 0.0; last_ck = time.time(); ema = None
_term = []
signal.signal(signal.SIGTERM, lambda *_: _term.append(1))   # kill PID -> checkpoint, then exit
while True:
    now = time.time()
    st['train_s'] = train0 + (now - t_seg - eval_time); st['cpu_s'] = cpu0 + time.process_time() - c_seg; st['wall_s'] = wall0 + now - t_seg
    el = st['train_s']
    st.setdefault('t_first', t_seg)
    # progress through the schedule: training time / budget, or (with --stop-at) wall time towards the deadline
    seg = st.get('segment')
    if seg:   # an --extend-tokens segment: its own token budget (an optional deadline still applies)
        frac = min(1.0, max((st['tokens'] - seg['tokens0']) / seg['tokens'],
                            (now - t_seg) / max(a.stop_at - t_seg, 1) if a.stop_at else 0.0))
    else:
        frac = min(1.0, max(el / budget, (now - st['t_first']) / max(a.stop_at - st['t_first'], 1) if a.stop_at else 0.0,
                            st['tokens'] / a.max_tokens if a.max_tokens else 0.0))
    stop = frac >= 1.0
    if el >= st['next_eval'] or stop:
        te = time.time(); ev = evaluate(); eval_time += time.time() - te
        rec = dict(step=st['step'], tokens=st['tokens'], train_s=round(el, 1), cpu_s=round(st['cpu_s'], 1), val=ev,
                   train_loss_ema=None if ema is None else round(ema, 4), lr=round(opt.param_groups[0]['lr'], 6),
                   load=round(os.getloadavg()[0], 2), utc=time.strftime('%H:%M:%S', time.gmtime()))
        st['evals'].append(rec); emit(rec); st['next_eval'] += a.eval_every
    if stop: break
    if _term:
        save(last); emit(dict(interrupted=True, step=st['step'], tokens=st['tokens'], train_s=round(el))); sys.exit(0)
    if time.time() - last_ck >= a.ckpt_every:
        save(last); last_ck = time.time()
    # linear warmup (steps), cosine to 10% over the schedule
    peak, warm_step = (seg['lr'], st['step'] - seg['step0']) if seg else (a.lr, st['step'])
    lr = peak * min(1.0, (warm_step + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    for g in opt.param_groups: g['lr'] = lr
    x, y = batch(a.bs, a.ctx)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bool(a.bf16)):
        _, loss = model(x, y, fused=a.fused > 0, chunk=a.fused or 256, mm_dtype=MM)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); opt.zero_grad(set_to_none=True)
    st['step'] += 1; st['tokens'] += x.numel(); l = loss.item(); ema = l if ema is None else 0.98 * ema + 0.02 * l
finished = frac >= 1.0
save(os.path.join(odir, 'final.pt') if finished else last, done=finished)
if finished and os.path.exists(last): os.remove(last)
emit(dict(done=finished, steps=st['step'], tokens=st['tokens'], train_s=round(st['train_s']), cpu_s=round(st['cpu_s']),
          tok_per_s=round(st['tokens'] / max(st['train_s'], 1)), val=st['evals'][-1]['val']))
