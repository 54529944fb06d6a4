#!/usr/bin/env python3
"""Step 1b: collect an offline code corpus.

Walks offline source roots (npm packages fetched by fetch_npm.sh, the Debian Python stdlib and
dist-packages, /usr/include, the pinned llama.cpp source), keeps TS/JS/Python/C/C++ files by
extension, drops minified/generated/huge files, deduplicates by content hash (exact and
whitespace-normalised), caps each language, and splits train/held-out BY FILE (sha1 of content).

Outputs (work/corpus/):  train.jsonl, val.jsonl   one {"src","lang","pkg","license","path","text"} per line
                         manifest.json             per-package licence + file/byte counts
Also copies the per-source licence summary to corpus_manifest.json next to this script (committed).
Resumable: does nothing if work/corpus/manifest.json exists (use --force to redo).
"""
import os, sys, json, hashlib, collections, glob, re, argparse
from common import WORK, CORPUS, LLAMA_CPP_SRC, HERE, LANGS

ap = argparse.ArgumentParser()
ap.add_argument('--force', action='store_true')
ap.add_argument('--val-permille', type=int, default=20, help='held-out share of files (per mille)')
ap.add_argument('--cap-mb', default='py:60,ts:60,js:60,c:40,cpp:30', help='per-language byte caps (MB)')
a = ap.parse_args()
if os.path.exists(os.path.join(CORPUS, 'manifest.json')) and not a.force:
    print('corpus exists, skipping (use --force)'); sys.exit(0)
os.makedirs(CORPUS, exist_ok=True)
CAP = {k: float(v) * 1e6 for k, v in (kv.split(':') for kv in a.cap_mb.split(','))}

PYVER = sorted(glob.glob('/usr/lib/python3.[0-9]*'))
ROOTS = [('npm', os.path.join(WORK, 'npm', 'node_modules'))]
ROOTS += [('npm-global', '/usr/lib/node_modules')]
ROOTS += [('llama.cpp', LLAMA_CPP_SRC)]
ROOTS += [('py-stdlib', p) for p in PYVER]
ROOTS += [('py-dist', '/usr/lib/python3/dist-packages'), ('usr-include', '/usr/include')]
EXT = {'.ts': 'ts', '.tsx': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'js',
       '.py': 'py', '.h': 'c', '.c': 'c', '.hpp': 'cpp', '.cpp': 'cpp', '.cc': 'cpp', '.cxx': 'cpp', '.hh': 'cpp'}
MAXB, MINB = 400_000, 200
SKIP_DIRS = ('/.git', '/test/data', '/__pycache__', '/dist/min', '/models/')


def ok(text):
    lines = text.split('\n')
    if len(lines) < 5: return False
    if max(len(l) for l in lines) > 400: return False           # minified / data blobs
    if len(text) / len(lines) > 100: return False
    if 'sourceMappingURL=data:' in text: return False
    return True


# ---- licence lookup -------------------------------------------------------------------
_pkgjson = {}
def npm_pkg(path):
    """nearest package.json above path -> (name@version, license)"""
    d = os.path.dirname(path)
    while d and d != '/':
        if d in _pkgjson:
            if _pkgjson[d]: return _pkgjson[d]
        else:
            pj = os.path.join(d, 'package.json'); r = None
            if os.path.exists(pj):
                try:
                    j = json.load(open(pj))
                    if 'name' in j and 'version' in j:
                        lic = j.get('license') or j.get('licenses') or 'UNKNOWN'
                        if isinstance(lic, dict): lic = lic.get('type', 'UNKNOWN')
                        if isinstance(lic, list): lic = ' OR '.join(x.get('type', '?') if isinstance(x, dict) else str(x) for x in lic)
                        r = (f"{j['name']}@{j['version']}", str(lic))
                except Exception:
                    pass
            _pkgjson[d] = r
            if r: return r
        d = os.path.dirname(d)
    return ('npm-unknown', 'UNKNOWN')


_dpkg_owner = None
def dpkg_owner(path):
    global _dpkg_owner
    if _dpkg_owner is None:
        _dpkg_owner = {}
        for lst in glob.glob('/var/lib/dpkg/info/*.list'):
            pkg = os.path.basename(lst)[:-5].split(':')[0]
            for line in open(lst, errors='replace'):
                _dpkg_owner[line.rstrip('\n')] = pkg
    return _dpkg_owner.get(path) or _dpkg_owner.get(os.path.realpath(path)) or 'debian-unknown'


_deb_lic = {}
def debian_license(pkg):
    if pkg not in _deb_lic:
        lic = set()
        for cp in [f'/usr/share/doc/{pkg}/copyright']:
            try:
                for line in open(cp, errors='replace'):
                    m = re.match(r'^License:\s*(\S.*)$', line)
                    if m: lic.add(m.group(1).strip())
            except Exception:
                pass
        _deb_lic[pkg] = ' / '.join(sorted(lic)[:6]) if lic else f'see /usr/share/doc/{pkg}/copyright'
    return _deb_lic[pkg]


def provenance(src, path):
    if src in ('npm', 'npm-global'):
        return npm_pkg(path)
    if src == 'llama.cpp':
        return ('llama.cpp (pinned, node-llama-cpp@3.22.1)', 'MIT')
    if src == 'py-stdlib':
        pkg = dpkg_owner(path)
        return (pkg, 'PSF-2.0 (Python standard library)')
    pkg = dpkg_owner(path)
    return (pkg, debian_license(pkg))


# ---- walk -----------------------------------------------------------------------------
cands = []   # (lang, sha1, src, path, text)
seen = set(); rej = collections.Counter()
for src, root in ROOTS:
    if not os.path.isdir(root):
        print('missing root (skipped):', src, root); continue
    for dp, dn, fn in os.walk(root):
        dn.sort(); fn.sort()
        if any(s in dp + '/' for s in SKIP_DIRS): continue
        for f in fn:
            ext = os.path.splitext(f)[1]
            lang = EXT.get(ext)
            if not lang or '.min.' in f or f.endswith('.map'): continue
            p = os.path.join(dp, f)
            try:
                if os.path.islink(p): continue
                sz = os.path.getsize(p)
                if sz > MAXB or sz < MINB: rej['size'] += 1; continue
                b = open(p, 'rb').read(); text = b.decode('utf-8')
            except Exception:
                rej['decode'] += 1; continue
            h = hashlib.sha1(b).hexdigest()
            hn = hashlib.sha1(re.sub(r'\s+', ' ', text).encode()).hexdigest()
            if h in seen or hn in seen: rej['dup'] += 1; continue
            seen.add(h); seen.add(hn)
            if not ok(text): rej['filter'] += 1; continue
            cands.append((lang, h, src, p, text))
print('candidates', len(cands), 'rejected', dict(rej), flush=True)

# deterministic per-language cap: keep files in hash order until the cap is reached
cands.sort(key=lambda c: c[1])
used = collections.Counter(); files = collections.Counter()
man = collections.defaultdict(lambda: dict(files=0, bytes=0, val_files=0))
tmp = {s: open(os.path.join(CORPUS, f'{s}.jsonl.tmp'), 'w') for s in ('train', 'val')}
for lang, h, src, p, text in cands:
    nb = len(text.encode())
    if used[lang] + nb > CAP.get(lang, 0): continue
    used[lang] += nb; files[lang] += 1
    pkg, lic = provenance(src, p)
    split = 'val' if int(h[:6], 16) % 1000 < a.val_permille else 'train'
    tmp[split].write(json.dumps(dict(src=src, lang=lang, pkg=pkg, license=lic, path=p, sha1=h, text=text)) + '\n')
    m = man[(src, pkg)]; m['license'] = lic; m['files'] += 1; m['bytes'] += nb; m['val_files'] += split == 'val'
    m.setdefault('langs', collections.Counter())[lang] += nb
for s, fh in tmp.items():
    fh.close(); os.replace(os.path.join(CORPUS, f'{s}.jsonl.tmp'), os.path.join(CORPUS, f'{s}.jsonl'))

manifest = dict(
    description='Offline code corpus for the bundled SpecExec draft/target pair (see engine-native/training/README.md)',
    roots=[dict(src=s, root=r) for s, r in ROOTS],
    filters=dict(max_bytes=MAXB, min_bytes=MINB, max_line=400, max_mean_line=100, dedupe='sha1 exact + whitespace-normalised',
                 val_split=f'{a.val_permille}/1000 of files by sha1', caps_mb=a.cap_mb),
    by_lang={k: dict(files=files[k], mb=round(used[k] / 1e6, 2)) for k in LANGS},
    packages=[dict(src=s, package=p, license=m['license'], files=m['files'], val_files=m['val_files'], bytes=m['bytes'],
                   langs=dict(m['langs'])) for (s, p), m in sorted(man.items(), key=lambda kv: -kv[1]['bytes'])],
)
json.dump(manifest, open(os.path.join(CORPUS, 'manifest.json.tmp'), 'w'), indent=1)
os.replace(os.path.join(CORPUS, 'manifest.json.tmp'), os.path.join(CORPUS, 'manifest.json'))
# committed, compact licence summary
lic = collections.defaultdict(lambda: collections.Counter())
for (s, p), m in man.items(): lic[s][m['license']] += m['bytes']
summary = dict(by_lang=manifest['by_lang'], filters=manifest['filters'],
               licences_by_source={s: {l: round(b / 1e6, 3) for l, b in c.most_common()} for s, c in lic.items()},
               packages=[dict(src=x['src'], package=x['package'], license=x['license'], files=x['files'], mb=round(x['bytes'] / 1e6, 3))
                         for x in manifest['packages']])
json.dump(summary, open(os.path.join(HERE, 'corpus_manifest.json'), 'w'), indent=1)
print(json.dumps(manifest['by_lang']))
