#!/usr/bin/env node
// Checks a GROWN target (grow_target.py) against the trained target it was grown from, with llama.cpp:
// greedy continuations of held-out prompts (bench/prompts.jsonl) must be identical, and the logits on
// held-out tokens must agree closely (they differ only by float rounding order).
// usage: node grow_check.mjs GROWN.gguf [--target models/specexec-target.gguf] [--prompts 6] [--tokens 32] [--max-prefix-chars 400]
import fs from 'node:fs';
import path from 'node:path';
import { REPO, args, loadAddon, opt } from './script-env.mjs';

const grown = path.resolve(args[0]);
const target = path.resolve(REPO, opt('--target', 'models/specexec-target.gguf'));
const nPrompts = Number(opt('--prompts', '6'));
const nTok = Number(opt('--tokens', '32'));
const maxChars = Number(opt('--max-prefix-chars', '400')); // the reference decoder feeds the prompt one token at a time
const addon = loadAddon();

const prompts = fs
  .readFileSync(path.join(REPO, 'bench', 'prompts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map(JSON.parse)
  .slice(0, nPrompts);
let same = 0;
const res = [];
for (const p of prompts) {
  const pre = p.prefix.slice(-maxChars),
    suf = p.suffix.slice(0, maxChars / 2);
  const prompt = p.suffix ? { prefix: pre, suffix: suf } : pre;
  const t0 = Date.now();
  const a = Array.from(addon.referenceGreedy(target, prompt, nTok, 2));
  const ta = Date.now() - t0;
  const t1 = Date.now();
  const b = Array.from(addon.referenceGreedy(grown, prompt, nTok, 2));
  const tb = Date.now() - t1;
  const eq = a.length === b.length && a.every((x, i) => x === b[i]);
  if (eq) same++;
  res.push({ id: p.id, equal: eq, tokens: a.length, ms_target: ta, ms_grown: tb });
}
const fx = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'target-reference-logits.json'), 'utf8'));
const toks = Uint32Array.from(fx.tokens);
const la = addon.evalLogits(target, toks, 2);
const lb = addon.evalLogits(grown, toks, 2);
let maxDiff = 0;
for (let i = 0; i < la.length; i++) maxDiff = Math.max(maxDiff, Math.abs(la[i] - lb[i]));
const out = { grown: path.relative(REPO, grown), greedyEqual: `${same}/${prompts.length}`, logitsMaxDiff: maxDiff, prompts: res };
console.log(JSON.stringify(out, null, 1));
process.exit(same === prompts.length ? 0 : 1);
