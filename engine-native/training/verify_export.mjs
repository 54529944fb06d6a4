#!/usr/bin/env node
// Step 5b: compare the engine's logits (llama.cpp through the specexec addon) with the torch
// reference fixture written by reference_logits.py.
// usage: node verify_export.mjs FIXTURE.json [--model OTHER.gguf] [--addon build/Release/specexec.node] [--tol 0.15]
// Exit code 1 when the max |diff| exceeds the tolerance or the argmax disagrees anywhere the torch
// top-2 gap is larger than 2*tol (a true tie may flip). --model checks another GGUF against the
// same fixture (e.g. the --no-permute negative control, which must FAIL).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const fx = JSON.parse(fs.readFileSync(args[0], 'utf8'));
const model = path.resolve(REPO, opt('--model', fx.model));
const tol = Number(opt('--tol', '0.15'));
const addon = createRequire(import.meta.url)(path.resolve(opt('--addon', path.join(REPO, 'build', 'Release', 'specexec.node'))));

export function compare(fx, logits) {
  const V = fx.n_vocab;
  let maxDiff = 0;
  let agree = 0;
  let hardMiss = 0;
  for (let p = 0; p < fx.tokens.length; p++) {
    const row = logits.subarray(p * V, (p + 1) * V);
    fx.top_ids[p].forEach((id, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(row[id] - fx.top_logits[p][j]));
    });
    fx.probe_ids.forEach((id, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(row[id] - fx.probe_logits[p][j]));
    });
    let am = 0;
    for (let i = 1; i < V; i++) if (row[i] > row[am]) am = i;
    if (am === fx.top_ids[p][0]) agree++;
    else if (fx.top_logits[p][0] - fx.top_logits[p][1] > 2 * tol) hardMiss++;
  }
  return { maxDiff, argmaxAgreement: agree / fx.tokens.length, hardMiss, positions: fx.tokens.length };
}

const t0 = Date.now();
const logits = addon.evalLogits(model, Uint32Array.from(fx.tokens), 2);
const r = compare(fx, logits);
const ok = r.maxDiff <= tol && r.hardMiss === 0;
console.log(JSON.stringify({ model: path.relative(REPO, model), ...r, tol, logitStd: fx.logit_std, ms: Date.now() - t0, ok }));
process.exit(ok ? 0 : 1);
