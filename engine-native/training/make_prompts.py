#!/usr/bin/env python3
"""Held-out code-completion prompts for the project's benchmarks and tests (bench/prompts.jsonl).

Drawn ONLY from the held-out split (work/corpus/val.jsonl); deterministic (seeded).
Each line: {"id","language","prefix","suffix","expected","source":{"path","package","license"}}
  prefix   : text before the cursor (starts at a line boundary, <= --prefix-chars)
  suffix   : text after the removed span for fill-in-the-middle prompts, "" for plain completion
  expected : the held-out text that was at the cursor (the next 1-3 lines), for quality metrics
usage: make_prompts.py [--out ../../bench/prompts.jsonl] [--per ts:12,js:8,py:10,c:6,cpp:5]"""
import argparse, json, os, random
from common import CORPUS, REPO, WORK, LLAMA_CPP_SRC

ap = argparse.ArgumentParser()
ap.add_argument('--out', default=os.path.join(REPO, 'bench', 'prompts.jsonl'))
ap.add_argument('--per', default='ts:12,js:8,py:10,c:6,cpp:5')
ap.add_argument('--prefix-chars', type=int, default=1000); ap.add_argument('--suffix-chars', type=int, default=300)
a = ap.parse_args()
LANGID = {'ts': 'typescript', 'js': 'javascript', 'py': 'python', 'c': 'c', 'cpp': 'cpp'}
per = {k: int(v) for k, v in (kv.split(':') for kv in a.per.split(','))}
docs = {k: [] for k in per}
for line in open(os.path.join(CORPUS, 'val.jsonl')):
    d = json.loads(line)
    if d['lang'] in docs and d['text'].count('\n') >= 30 and not d['path'].endswith('.d.ts') or (d['lang'] == 'ts' and d['text'].count('\n') >= 30):
        if d['lang'] in docs: docs[d['lang']].append(d)
def shown(p):   # machine-independent source path
    npm = os.path.join(WORK, 'npm', 'node_modules') + '/'
    if p.startswith(npm): return 'npm:' + p[len(npm):]
    src = os.path.abspath(LLAMA_CPP_SRC) + '/'
    if p.startswith(src): return 'llama.cpp:' + p[len(src):]
    return p
rnd = random.Random(2026)
out = []
for lang, n in per.items():
    ds = sorted(docs[lang], key=lambda d: d['sha1']); rnd.shuffle(ds)
    # prefer real source over declaration files for TypeScript, but allow them if short of files
    ds.sort(key=lambda d: d['path'].endswith('.d.ts'))
    used_pkgs = {}
    k = 0
    for d in ds:
        if k >= n: break
        if used_pkgs.get(d['pkg'], 0) >= 2: continue        # spread over packages
        lines = d['text'].split('\n')
        cands = [i for i in range(12, len(lines) - 6) if len(lines[i].strip()) >= 12 and not lines[i].strip().startswith(('//', '#', '*', '/*'))]
        if not cands: continue
        i = rnd.choice(cands); m = rnd.choice([1, 1, 2, 3])
        pre = '\n'.join(lines[:i]) + '\n'
        if len(pre) > a.prefix_chars:
            cut = pre.find('\n', len(pre) - a.prefix_chars); pre = pre[cut + 1:]
        mid = '\n'.join(lines[i:i + m]) + '\n'
        fim = k % 2 == 1
        suf = ''
        if fim:
            suf = '\n'.join(lines[i + m:])[:a.suffix_chars]
            if '\n' in suf: suf = suf[:suf.rfind('\n') + 1]
        out.append(dict(id=f'{lang}-{k:02d}', language=LANGID[lang], prefix=pre, suffix=suf, expected=mid,
                        source=dict(path=shown(d['path']), package=d['pkg'], license=d['license'], split='held-out')))
        used_pkgs[d['pkg']] = used_pkgs.get(d['pkg'], 0) + 1; k += 1
    print(lang, k, 'prompts')
os.makedirs(os.path.dirname(a.out), exist_ok=True)
with open(a.out, 'w') as f:
    for r in out: f.write(json.dumps(r, ensure_ascii=False) + '\n')
print('wrote', a.out, len(out), 'prompts')
