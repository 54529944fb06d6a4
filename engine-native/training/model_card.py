#!/usr/bin/env python3
"""Step 8: write models/MODEL_CARD.md from the pipeline's outputs (training logs, work/eval.json,
work/verify.jsonl, work/pass_rate.json, work/samples.json, work/grow.json, corpus manifest).
Missing inputs are rendered as clearly marked PENDING sections.
usage: model_card.py [--out ../../models/MODEL_CARD.md]"""
import argparse, hashlib, json, os
from common import WORK, REPO, HERE, CKPT, TOK, LANGS

ap = argparse.ArgumentParser()
ap.add_argument('--out', default=os.path.join(REPO, 'models', 'MODEL_CARD.md'))
ap.add_argument('--notes', default=os.path.join(WORK, 'card_notes.md'), help='extra markdown appended to the training section')
a = ap.parse_args()

def load(p, default=None):
    try:
        return json.load(open(p))
    except Exception:
        return default

def jl(p):
    try:
        return [json.loads(l) for l in open(p) if l.strip()]
    except Exception:
        return []

M = {k: os.path.join(REPO, 'models', f'specexec-{k}.gguf') for k in ('draft', 'target')}
def sha(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''): h.update(b)
    return h.hexdigest()

logs = {k: jl(os.path.join(CKPT, k, 'log.jsonl')) for k in M}
def train_info(k):
    L = logs[k]
    starts = [r for r in L if 'start' in r]
    evals = [r for r in L if 'val' in r and 'step' in r and 'done' not in r]
    done = [r for r in L if 'done' in r]
    last = evals[-1] if evals else {}
    return dict(cfg=starts[-1]['cfg'] if starts else {}, params=starts[-1]['params'] if starts else {}, args=starts[-1]['args'] if starts else {},
                first=starts[0]['start'] if starts else '?', tokens=last.get('tokens'), train_s=last.get('train_s'), cpu_s=last.get('cpu_s'),
                steps=last.get('step'), val=last.get('val', {}), evals=evals, done=bool(done and done[-1].get('done')))
T = {k: train_info(k) for k in M}
ev = load(os.path.join(WORK, 'eval.json'))
ver = jl(os.path.join(WORK, 'verify.jsonl'))
pr = load(os.path.join(WORK, 'pass_rate.json'))
samples = load(os.path.join(WORK, 'samples.json'), [])
grow = load(os.path.join(WORK, 'grow.json'))
man = load(os.path.join(HERE, 'corpus_manifest.json'), {})
tr = load(os.path.join(TOK, 'train.done'), {}); va = load(os.path.join(TOK, 'val.done'), {})

o = []
w = o.append
w('# SpecExec Code bundled models: `specexec-draft.gguf` + `specexec-target.gguf`\n')
w('> **A small offline pair for demonstration and testing, not a useful code-completion model.** '
  f'They were trained from scratch on one 2-core CPU ({(T["target"]["cpu_s"] or 0)/3600:.1f} CPU-hours for the target, '
  f'{(T["draft"]["cpu_s"] or 0)/3600:.1f} for the draft), so that the extension, the engine, its tests and '
  'its benchmarks work out of the box, offline, with a real draft/target pair (same tokenizer, real llama.cpp inference, '
  'real speculative decoding). Their completions are code-shaped but mostly wrong. For real use, point the settings at real '
  'GGUF models (see [Using real models](#using-real-models)).\n')
w('## Files\n')
w('| file | role | format | size | sha256 |\n|---|---|---|---|---|')
for k, p in M.items():
    if os.path.exists(p):
        w(f'| `models/{os.path.basename(p)}` | {k} | GGUF, llama architecture, Q8_0 (norms F32) | {os.path.getsize(p)/1e6:.1f} MB | `{sha(p)[:16]}...` |')
w('')
w('## Architecture\n')
w('Both are `llama` models (RMSNorm, rotary position embeddings, SwiGLU feed-forward) with the deepseek-coder tokenizer.\n')
w('| | draft | target |\n|---|---|---|')
c = {k: T[k]['cfg'] for k in M}; P = {k: T[k]['params'] for k in M}
rows = [('layers', 'n_layer'), ('hidden size d', 'd'), ('attention heads (query / key-value)', None), ('head dim', None), ('FFN size', 'ffn'),
        ('tied input/output embeddings', 'tied'), ('training context (tokens)', 'ctx'), ('RoPE base', 'rope_base')]
for name, key in rows:
    if key: w(f'| {name} | {c["draft"].get(key)} | {c["target"].get(key)} |')
    elif 'heads' in name: w(f'| {name} | {c["draft"].get("n_head")} / {c["draft"].get("n_kv_head")} | {c["target"].get("n_head")} / {c["target"].get("n_kv_head")} |')
    else: w(f'| {name} | {c["draft"].get("d", 0)//max(c["draft"].get("n_head", 1),1)} | {c["target"].get("d", 0)//max(c["target"].get("n_head", 1),1)} |')
for name, key in [('non-embedding parameters', 'non_embedding'), ('embedding parameters', 'embedding'), ('output-layer parameters (untied)', 'head'), ('total parameters', 'total')]:
    w(f'| {name} | {P["draft"].get(key, 0)/1e6:.2f}M | {P["target"].get(key, 0)/1e6:.2f}M |')
w('| context length in the GGUF | 4096 (RoPE extrapolation beyond the 512 trained positions is untested) | 4096 (same) |\n')
w('Tokenizer: deepseek-coder byte-level BPE, 32,256 tokens, copied verbatim from the pinned llama.cpp\'s '
  '`models/ggml-vocab-deepseek-coder.gguf` (the same tokenizer as DeepSeek-Coder 1.3B/6.7B/33B). BOS 32013, EOS 32014; '
  'fill-in-the-middle tokens `<｜fim▁begin｜>` 32016 (prefix), `<｜fim▁hole｜>` 32015 (suffix), `<｜fim▁end｜>` 32017 (middle).\n')

w('## Training data\n')
w('Only code that exists offline on the build machine, deduplicated (exact and whitespace-normalised content hash), '
  'minified/generated/huge files dropped, per-language caps; **held-out split by file** (2% of files by content hash). '
  'Benchmark and test prompts (`bench/prompts.jsonl`, `test/fixtures/`) come from the held-out split only. '
  'Per-package licences: `engine-native/training/corpus_manifest.json` (full per-file manifest in the pipeline\'s work folder).\n')
w('| language | files | MB | training tokens | held-out tokens | bytes/token |\n|---|---|---|---|---|---|')
for l in LANGS:
    bl = man.get('by_lang', {}).get(l, {})
    w(f'| {l} | {bl.get("files", "?")} | {bl.get("mb", "?")} | {tr.get("tokens", {}).get(l, 0)/1e6:.2f}M | {va.get("tokens", {}).get(l, 0)/1e6:.3f}M | {tr.get("bytes_per_token", {}).get(l, "?")} |')
tot_tr = sum(tr.get('tokens', {}).values()) if tr else 0; tot_va = sum(va.get('tokens', {}).values()) if va else 0
w(f'| **all** | | | **{tot_tr/1e6:.1f}M** | **{tot_va/1e6:.2f}M** | |\n')
w('| source | what | licences (MB of corpus) |\n|---|---|---|')
desc = {'npm': 'TypeScript/JavaScript of npm packages fetched for the purpose (typescript, @types/node, rxjs, zod, effect, vscode-languageserver, webpack, eslint, three, ... and their dependencies; pinned in `corpus-npm-package.json`)',
        'npm-global': 'JavaScript of the system npm (`/usr/lib/node_modules`)', 'llama.cpp': 'C/C++/Python/TypeScript of the pinned llama.cpp source',
        'py-stdlib': 'Python standard library (Debian python3.11)', 'py-dist': 'Python of Debian packages (`/usr/lib/python3/dist-packages`)',
        'usr-include': 'C/C++ headers of Debian packages (`/usr/include`)'}
for s, lic in man.get('licences_by_source', {}).items():
    top = sorted(lic.items(), key=lambda kv: -kv[1])[:4]
    more = '' if len(lic) <= 4 else f'; {len(lic) - 4} more licence sets'
    w(f'| {s} | {desc.get(s, s)} | ' + '; '.join(f'{k} ({v:.1f})' for k, v in top) + more + ' |')
w('\nDebian licences are read from each owning package\'s `/usr/share/doc/PKG/copyright`; npm licences from each package\'s `package.json`.\n')

w('## Training\n')
for k in ('target', 'draft'):
    t = T[k]; ar = t['args']
    w(f'- **{k}**: {t["tokens"] or 0:,} tokens ({t["steps"]} steps of {ar.get("bs")} x {ar.get("ctx")} tokens), '
      f'{(t["train_s"] or 0)/60:.0f} min of wall-clock training, {(t["cpu_s"] or 0)/3600:.2f} CPU-hours, '
      f'peak learning rate {ar.get("lr")}, {ar.get("threads")} thread(s) at the end, started {t["first"]}.')
w('- Objective: next-token cross-entropy on 512-token windows; **half of the samples in fill-in-the-middle form**, '
  'prefix-suffix-middle order exactly as the engine builds FIM prompts (`BOS <fim_pre> prefix <fim_suf> suffix <fim_mid> middle`). '
  f'Language mix of the samples: {T["target"]["args"].get("mix")}.')
w('- AdamW (betas 0.9/0.95, weight decay 0.1), linear warm-up then cosine decay to 10% over the budget; '
  'fp32 with OpenBLAS and a fused chunked output-layer/cross-entropy (this CPU has no AVX512-BF16).')
w('- Hardware: 2 shared vCPUs (AMD EPYC, AVX2), no GPU; the machine was also compiling and testing the project, '
  'and training ran at low priority (`nice 10` to `nice 19`), so throughput was often 2-5x below the quiet figures in the recipe.')
def stages(k):
    # an --extend-tokens start opens a warm-restart segment: report where each segment began
    L, out, prev = logs[k], [], 0
    for n, r in enumerate(L):
        if 'start' not in r:
            continue
        ext, prev_ext = r['args'].get('extend_tokens'), prev
        prev = ext
        if ext and not prev_ext:   # resumes inside a segment repeat its flag
            before = [e for e in L[:n] if 'val' in e and 'step' in e]
            if before:
                out.append(dict(tokens=before[-1]['tokens'], cpu_s=before[-1]['cpu_s'], val=before[-1]['val'].get('avg'),
                                extend=r['args']['extend_tokens'], lr=r['args'].get('extend_lr') or r['args']['lr'] / 2))
    return out
for k in ('target', 'draft'):
    for sg in stages(k):
        w(f'- The {k} was continued with a warm restart (`train.py {k} --extend-tokens {sg["extend"]:,}`: a new warm-up and cosine '
          f'segment at peak learning rate {sg["lr"]:g}; its cosine ended at a deadline) after {sg["tokens"]:,} tokens and '
          f'{sg["cpu_s"]/3600:.2f} CPU-hours, when its held-out loss (train.py\'s validation windows) was {sg["val"]}; '
          f'at the end it was {T[k]["val"].get("avg")}.')
w('')
if os.path.exists(a.notes): w(open(a.notes).read() + '\n')

w('## Held-out results\n')
if ev:
    pl = ev['per_lang']; al = ev['all']
    w(f'Measured by `evaluate.py` on the weights imported back from the shipped Q8_0 GGUFs: {ev["windows_per_lang"]} windows of '
      f'{ev["ctx"]} held-out tokens per language (plain text), nats/token (uniform = 10.38).\n')
    w('| language | draft loss | target loss | draft top-1 acc | target top-1 acc | target top-1 in draft top-1 | ... top-4 | ... top-16 | 1 - TV(draft, target) | FIM middle loss draft / target |')
    w('|---|---|---|---|---|---|---|---|---|---|')
    for l in LANGS + ['all']:
        r = al if l == 'all' else pl[l]
        w(f'| {"**all**" if l == "all" else l} | {r["nll_draft"]:.3f} | {r["nll_target"]:.3f} | {r["acc_draft"]:.3f} | {r["acc_target"]:.3f} | '
          f'{r["t_in_d_top1"]:.3f} | {r["t_in_d_top4"]:.3f} | {r["t_in_d_top16"]:.3f} | {r["one_minus_tv"]:.3f} | {r["fim_middle_nll_draft"]:.2f} / {r["fim_middle_nll_target"]:.2f} |')
    w('\n"target top-1 in draft top-k" is the share of positions where the target\'s greedy token is among the draft\'s k most likely '
      'tokens, which is what a SpecExec tree of that width can exploit.\n')
else:
    w('**PENDING**: run `evaluate.py` (writes work/eval.json).\n')
w('Training-time held-out loss (fixed windows, plain text), last evaluation: ' +
  '; '.join(f'{k} {T[k]["val"].get("avg")} (' + ', '.join(f'{l} {T[k]["val"].get(l)}' for l in LANGS) + ')' for k in ('draft', 'target')) + '.\n')

w('## Export verification\n')
if ver:
    w('`verify_export.mjs` / `test/engine/model-export.test.ts` compare the engine\'s logits (llama.cpp through the addon) with PyTorch\'s '
      'on 128 held-out tokens (BOS + the start of a held-out TypeScript file), PyTorch running on the weights imported back from the '
      'same GGUF. Tolerance: max |diff| <= 0.15 over each position\'s top-8 and 8 fixed probe ids, and no argmax disagreement where '
      'PyTorch\'s top-2 gap exceeds 0.3.\n')
    w('| model | max abs diff | argmax agreement | logit std | result |\n|---|---|---|---|---|')
    for r in ver:
        w(f'| `{r["model"]}` | {r["maxDiff"]:.4f} | {r["argmaxAgreement"]*100:.1f}% | {r["logitStd"]} | {"pass" if r["ok"] else "FAIL"} |')
    w('')
    for k in ('target', 'draft'):
        fx = load(os.path.join(REPO, 'test', 'fixtures', f'{k}-reference-logits.json'), {})
        q = fx.get('fp32_checkpoint_vs_gguf')
        if q: w(f'- Q8_0 rounding ({k}): fp32 training checkpoint vs the Q8_0 weights, both in PyTorch: max |diff| {q["max_abs_diff"]}, argmax agreement {q["argmax_agreement"]*100:.1f}%.')
    w('')
else:
    w('**PENDING**: run verify_export.mjs.\n')

w('## Speculative decoding with the engine\n')
if pr:
    w(f'Tokens per verification pass (the tokens after the first, over the target passes after the prompt\'s) with `specexec complete --mode specexec --budget N --temperature 0` (greedy), '
      f'{len(pr["prompts"])} held-out prompts from `bench/prompts.jsonl` ({", ".join(pr["prompts"])}), {pr["maxTokens"]} new tokens each. '
      'Tokens per second are on the busy 2-core build machine and only indicative.\n')
    w('| budget | tokens per target pass | tokens/s |\n|---|---|---|')
    for b, r in pr['byBudget'].items():
        w(f'| {b} | {r["tokensPerTargetPass"]:.2f} | {r["tokensPerSecond"]} |')
    w('')
else:
    w('**PENDING**: tokens per target pass at budgets 4-256 (`node engine-native/training/pass_rate.mjs`).\n')

w('## Sample completions\n')
if samples:
    w('Greedy continuations by llama.cpp (the addon\'s reference decoder) of held-out prompts; `⟨cursor⟩` marks where the completion goes.\n')
    for s in samples:
        w(f'**{s["id"]}** ({s["language"]}{", fill-in-the-middle" if s["fim"] else ""})\n')
        w('```text\n' + s['prefix_tail'].replace('```', "'''") + '⟨cursor⟩' + (s['suffix_head'].replace('```', "'''") if s['fim'] else '') + '\n```')
        for k in ('target', 'draft'):
            w(f'- {k}: `{json.dumps(s[k])[1:-1][:200]}`')
        w(f'- held-out truth: `{json.dumps(s["expected"])[1:-1][:200]}`\n')
else:
    w('**PENDING**: `node samples.mjs`.\n')

w('## Grown target (synthetic, for cost measurements only)\n')
w('`engine-native/training/grow_target.py` grows the trained target, function-preservingly, into TinyLlama-1.1B\'s shape '
  '(d=2048, 22 layers, FFN 5632, 32/4 heads): zero-padded widths with RMSNorm weights scaled by sqrt(384/2048) and eps by '
  '384/2048 (so the normalisation is unchanged), the trained heads placed in matching GQA groups, zero FFN/attention '
  'widening, and 16 added identity layers (random q/k/v/gate/up, zero output projections). It computes exactly the small '
  'target\'s function at a real 1B model\'s cost. **It is not committed and is not a 1B-quality model.** '
  '`engine-native/tools/make_test_model.py --layers 22 --embd 2048 --heads 32 --kv-heads 4 --ff 5632 --dtype q8_0 --tied` writes a random-weight model of the same shape as the cost reference.\n')
cost = load(os.path.join(WORK, 'cost_curve.json'))
if grow:
    w('Measured: ' + json.dumps(grow) + '\n')
if cost:
    w(f'Cost of one forward pass against batch size (llama-bench, {cost["threads"]} threads, fastest of {cost["rounds"]} alternating rounds; '
      f'`node engine-native/training/cost_curve.mjs`), the grown target against a random-weight model of the same shape:\n')
    w('| tokens in the pass | grown (ms) | random-weight (ms) | grown / random |\n|---|---|---|---|')
    for r in cost['rows']:
        w(f'| {r["batch"]} | {r["grownMs"]:.1f} | {r["randomMs"]:.1f} | {r["ratio"]:.3f} |')
    w(f'\nLargest relative difference {cost["maxRelativeDifference"]*100:.1f}%; t(2)/t(1) = {cost["grownT2OverT1"]} (grown) and '
      f'{cost["randomT2OverT1"]} (random-weight) on this machine.\n')
if not grow and not cost:
    w('**PENDING**: greedy-equality and cost-curve measurements of the full 1.1B-shape grown target.\n')

w('## Using real models\n')
w('The bundled pair only exists so that everything works offline out of the box. For real completions download GGUF files of a '
  'real same-family pair and set the draft and target model paths in the extension settings (or `--draft`/`--target` on the CLI):\n')
w('- **Qwen2.5-Coder**: draft 0.5B or 1.5B with target 7B / 14B / 32B (e.g. `qwen2.5-coder-0.5b-instruct-q8_0.gguf` + `qwen2.5-coder-7b-instruct-q4_k_m.gguf`);')
w('- **DeepSeek-Coder**: draft 1.3B with target 6.7B / 33B (same tokenizer as the bundled pair);')
w('- **StarCoder2**: draft 3B with target 15B.\n')
w('The draft and target must share a tokenizer. Base (non-instruct) models are best for fill-in-the-middle completion.\n')
w('## Reproducing\n')
w('See `engine-native/training/README.md`: one command per step (corpus, tokenization with the engine\'s tokenizer, training, '
  'export, verification, evaluation, this card via `model_card.py`).')
open(a.out, 'w').write('\n'.join(o) + '\n')
print('wrote', a.out)
