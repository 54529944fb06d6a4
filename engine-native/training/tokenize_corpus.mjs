#!/usr/bin/env node
// Step 2: tokenize the corpus with the ENGINE's own tokenizer (the specexec N-API addon, i.e.
// llama.cpp's deepseek-coder BPE from the vocab GGUF), so training and inference never disagree.
//
// Reads  work/corpus/{val,train}.jsonl
// Writes work/tok/{split}_{lang}.bin  (uint16; each document = BOS + tokens + EOS)
//        work/tok/{split}_index.jsonl (one {lang,path,sha1,start,len} per document; start/len in tokens, incl. BOS/EOS)
//        work/tok/meta.json
// Resumable: a split whose `{split}.done` marker exists is skipped (use --force to redo).
//
// usage: node tokenize_corpus.mjs [--addon build/Release/specexec.node] [--force]
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const WORK = process.env.SPECEXEC_TRAIN_WORK || path.join(HERE, 'work');
const LLAMA_CPP_SRC = process.env.LLAMA_CPP_SRC || path.join(REPO, 'build', 'llama.cpp');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const addonPath = path.resolve(opt('--addon', path.join(REPO, 'build', 'Release', 'specexec.node')));
const vocab = opt('--vocab', path.join(LLAMA_CPP_SRC, 'models', 'ggml-vocab-deepseek-coder.gguf'));
const force = args.includes('--force');
const BOS = 32013,
  EOS = 32014;

const require = createRequire(import.meta.url);
const addon = require(addonPath);
const tok = new addon.Tokenizer(vocab);
if (tok.vocabSize() !== 32256) throw new Error(`unexpected vocab size ${tok.vocabSize()}`);
// the special tokens the training pipeline relies on
const special = tok.tokenize('<｜fim▁begin｜><｜fim▁hole｜><｜fim▁end｜>', true);
if (Array.from(special).join(',') !== '32016,32015,32017') throw new Error(`FIM ids: ${special}`);

const outDir = path.join(WORK, 'tok');
fs.mkdirSync(outDir, { recursive: true });
const meta = { tokenizer: 'specexec addon (llama.cpp deepseek-coder BPE)', addon: addonPath, vocab, splits: {} };

for (const split of ['val', 'train']) {
  const done = path.join(outDir, `${split}.done`);
  if (fs.existsSync(done) && !force) {
    meta.splits[split] = JSON.parse(fs.readFileSync(done, 'utf8'));
    console.log(`${split}: already tokenized, skipping`);
    continue;
  }
  const t0 = Date.now();
  const outs = {};
  const pos = {};
  const ntok = {};
  const nbytes = {};
  const index = fs.openSync(path.join(outDir, `${split}_index.jsonl.tmp`), 'w');
  const rl = readline.createInterface({ input: fs.createReadStream(path.join(WORK, 'corpus', `${split}.jsonl`)), crlfDelay: Infinity });
  let ndocs = 0;
  for await (const line of rl) {
    if (!line) continue;
    const d = JSON.parse(line);
    const ids = tok.tokenize(d.text, false);
    const buf = new Uint16Array(ids.length + 2);
    buf[0] = BOS;
    buf.set(ids, 1);
    buf[ids.length + 1] = EOS;
    if (!(d.lang in outs)) {
      outs[d.lang] = fs.openSync(path.join(outDir, `${split}_${d.lang}.bin.tmp`), 'w');
      pos[d.lang] = 0;
      ntok[d.lang] = 0;
      nbytes[d.lang] = 0;
    }
    fs.writeSync(outs[d.lang], Buffer.from(buf.buffer));
    fs.writeSync(index, JSON.stringify({ lang: d.lang, path: d.path, sha1: d.sha1, start: pos[d.lang], len: buf.length }) + '\n');
    pos[d.lang] += buf.length;
    ntok[d.lang] += buf.length;
    nbytes[d.lang] += Buffer.byteLength(d.text);
    if (++ndocs % 2000 === 0) console.log(`${split}: ${ndocs} docs, ${(Date.now() - t0) / 1000}s`);
  }
  for (const [lang, fd] of Object.entries(outs)) {
    fs.closeSync(fd);
    fs.renameSync(path.join(outDir, `${split}_${lang}.bin.tmp`), path.join(outDir, `${split}_${lang}.bin`));
  }
  fs.closeSync(index);
  fs.renameSync(path.join(outDir, `${split}_index.jsonl.tmp`), path.join(outDir, `${split}_index.jsonl`));
  const secs = (Date.now() - t0) / 1000;
  const info = {
    docs: ndocs,
    seconds: secs,
    tokens: ntok,
    bytes: nbytes,
    bytes_per_token: Object.fromEntries(Object.keys(ntok).map((k) => [k, +(nbytes[k] / ntok[k]).toFixed(3)])),
  };
  fs.writeFileSync(done, JSON.stringify(info));
  meta.splits[split] = info;
  const tot = Object.values(ntok).reduce((a, b) => a + b, 0);
  console.log(`${split}: ${ndocs} docs, ${(tot / 1e6).toFixed(2)}M tokens in ${secs.toFixed(0)}s`, JSON.stringify(info.bytes_per_token));
}
tok.close();
fs.writeFileSync(path.join(outDir, 'meta.json'), JSON.stringify(meta, null, 1));
