#!/usr/bin/env node
// Cost realism of a GROWN target (grow_target.py): the cost of one forward pass against batch size
// must match a random-weight model of the same real shape (tools/make_test_model.py), since the
// grown model only has to cost what a real model costs. Narrow shapes hit other kernels and make
// small batches look free; this is the check that the grown shape does not.
// Timings by llama.cpp's own llama-bench (built by tools/build-llama-tools.mjs) from the same pinned
// source, flash attention off as in the engine (llama-bench offers no F32 KV cache; both models get
// the same F16 one, and an empty cache costs little at these batch sizes). The models run in
// alternating rounds and each batch keeps its fastest sample, which is what survives a busy machine.
// usage: node cost_curve.mjs GROWN.gguf RANDOM.gguf [--batches 1,2,4,8,16,32,64] [--rounds 3] [--threads 2] [--out work/cost_curve.json]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HERE, REPO, args, opt } from './script-env.mjs';

const [grown, random] = args.slice(0, 2).map((p) => path.resolve(p));
if (!grown || !random || grown.startsWith('--') || random.startsWith('--')) {
  console.error('usage: node cost_curve.mjs GROWN.gguf RANDOM.gguf [--batches 1,2,...] [--rounds 3] [--threads 2]');
  process.exit(2);
}
const batches = opt('--batches', '1,2,4,8,16,32,64').split(',').map(Number);
const rounds = Number(opt('--rounds', '3'));
const threads = opt('--threads', '2');
const out = path.resolve(HERE, opt('--out', 'work/cost_curve.json'));
const bench = path.join(REPO, 'build', 'llama-tools', 'bin', 'llama-bench');
if (!fs.existsSync(bench))
  execFileSync(process.execPath, [path.join(REPO, 'engine-native', 'tools', 'build-llama-tools.mjs')], { stdio: 'inherit' });

/** Fastest sample (ms) of one pass of each batch size. */
function measure(model) {
  const json = execFileSync(
    bench,
    ['-m', model, '-p', batches.join(','), '-n', '0', '-r', '3', '-t', threads, '-fa', 'off', '-o', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const ms = {};
  for (const t of JSON.parse(json)) ms[t.n_prompt] = Math.min(...t.samples_ns) / 1e6;
  return ms;
}

const best = { grown: {}, random: {} };
for (let r = 0; r < rounds; r++) {
  for (const [name, model] of [
    ['grown', grown],
    ['random', random],
  ]) {
    const ms = measure(model);
    for (const b of batches) best[name][b] = Math.min(best[name][b] ?? Infinity, ms[b]);
    console.error(`round ${r + 1}/${rounds} ${name}: ${batches.map((b) => `${b}:${ms[b].toFixed(1)}`).join(' ')} ms`);
  }
}
const rows = batches.map((b) => ({
  batch: b,
  grownMs: +best.grown[b].toFixed(2),
  randomMs: +best.random[b].toFixed(2),
  ratio: +(best.grown[b] / best.random[b]).toFixed(3),
}));
const result = {
  grown: path.basename(grown),
  random: path.basename(random),
  threads: Number(threads),
  rounds,
  rows,
  maxRelativeDifference: +Math.max(...rows.map((r) => Math.abs(r.ratio - 1))).toFixed(3),
  grownT2OverT1: +(best.grown[2] / best.grown[1]).toFixed(2),
  randomT2OverT1: +(best.random[2] / best.random[1]).toFixed(2),
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(result, null, 1));
console.log(JSON.stringify(result, null, 1));
