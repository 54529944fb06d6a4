#!/usr/bin/env node
// Sample completions of the shipped pair (llama.cpp greedy through the addon's reference decoder)
// on held-out prompts from bench/prompts.jsonl. Writes work/samples.json (used by the model card).
// usage: node samples.mjs [--ids ts-01,py-02,...] [--tokens 48]
import fs from 'node:fs';
import path from 'node:path';

import { REPO, WORK, loadAddon, opt } from './script-env.mjs';
const nTok = Number(opt('--tokens', '48'));
const ids = opt('--ids', 'ts-00,ts-01,ts-04,js-03,py-02,py-03,c-00,cpp-01').split(',');
const addon = loadAddon();
const models = { draft: path.join(REPO, 'models', 'specexec-draft.gguf'), target: path.join(REPO, 'models', 'specexec-target.gguf') };
const tok = new addon.Tokenizer(models.target);
const prompts = fs
  .readFileSync(path.join(REPO, 'bench', 'prompts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map(JSON.parse)
  .filter((p) => ids.includes(p.id));
const out = [];
for (const p of prompts) {
  const prompt = p.suffix ? { prefix: p.prefix, suffix: p.suffix } : p.prefix;
  const r = {
    id: p.id,
    language: p.language,
    fim: !!p.suffix,
    prefix_tail: p.prefix.slice(-240),
    suffix_head: p.suffix.slice(0, 120),
    expected: p.expected,
  };
  for (const [k, m] of Object.entries(models)) r[k] = tok.detokenize(addon.referenceGreedy(m, prompt, nTok, 2));
  out.push(r);
  console.log(
    `--- ${p.id} (${p.language}${p.suffix ? ', FIM' : ''})\n[target] ${JSON.stringify(r.target)}\n[draft]  ${JSON.stringify(r.draft)}\n[truth]  ${JSON.stringify(p.expected)}`,
  );
}
tok.close();
fs.writeFileSync(path.join(WORK, 'samples.json'), JSON.stringify(out, null, 1));
