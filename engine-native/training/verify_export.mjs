#!/usr/bin/env node
// Step 5b: compare the engine's logits (llama.cpp through the specexec addon) with the torch
// reference fixture written by reference_logits.py.
// usage: node verify_export.mjs FIXTURE.json [--model OTHER.gguf] [--addon build/Release/specexec.node] [--tol 0.15]
// Exit code 1 when the max |diff| exceeds the tolerance or the argmax disagrees anywhere the torch
// top-2 gap is larger than 2*tol (a true tie may flip). --model checks another GGUF against the
// same fixture (e.g. the --no-permute negative control, which must FAIL).
import fs from 'node:fs';
import path from 'node:path';
import { compareLogits } from './logit_compare.mjs';
import { REPO, args, loadAddon, opt } from './script-env.mjs';

const fx = JSON.parse(fs.readFileSync(args[0], 'utf8'));
const model = path.resolve(REPO, opt('--model', fx.model));
const tol = Number(opt('--tol', '0.15'));
const addon = loadAddon(opt('--addon'));

const t0 = Date.now();
const logits = addon.evalLogits(model, Uint32Array.from(fx.tokens), 2);
const r = compareLogits(fx, logits, tol);
const ok = r.maxDiff <= tol && r.hardMiss === 0;
console.log(JSON.stringify({ model: path.relative(REPO, model), ...r, tol, logitStd: fx.logit_std, ms: Date.now() - t0, ok }));
process.exit(ok ? 0 : 1);
