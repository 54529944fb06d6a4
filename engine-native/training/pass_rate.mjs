#!/usr/bin/env node
// Tokens per target pass of the shipped pair with the engine's SpecExec mode (dist/cli.js), on
// held-out prompts (bench/prompts.jsonl), for several tree budgets. Greedy (temperature 0).
// usage: node pass_rate.mjs [--budgets 4,8,16,32,64,128,256] [--prompts 10] [--max-tokens 32] [--threads 2]
// Writes work/pass_rate.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

import { REPO, WORK, opt } from './script-env.mjs';
const budgets = opt('--budgets', '4,8,16,32,64,128,256').split(',').map(Number);
const nPrompts = Number(opt('--prompts', '10'));
const maxTokens = opt('--max-tokens', '32');
const threads = opt('--threads', '2');
const all = fs
  .readFileSync(path.join(REPO, 'bench', 'prompts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map(JSON.parse);
// spread over languages: every k-th prompt
const step = Math.max(1, Math.floor(all.length / nPrompts));
const prompts = all.filter((_, i) => i % step === 0).slice(0, nPrompts);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'passrate-'));
const res = { prompts: prompts.map((p) => p.id), maxTokens: Number(maxTokens), byBudget: {} };
for (const b of budgets) {
  let tokens = 0,
    passes = 0,
    ms = 0;
  const per = [];
  for (const p of prompts) {
    const pf = path.join(tmp, 'prompt.txt');
    fs.writeFileSync(pf, p.prefix);
    const cli = [
      'dist/cli.js',
      'complete',
      '--prompt-file',
      pf,
      '--mode',
      'specexec',
      '--budget',
      String(b),
      '--max-tokens',
      maxTokens,
      '--temperature',
      '0',
      '--threads',
      threads,
      '--json',
    ];
    if (p.suffix) cli.push('--suffix', p.suffix);
    const out = execFileSync('node', cli, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const j = JSON.parse(out.trim().split('\n').pop());
    // per verification pass: the prompt's own pass, which yields the first token, is not a tree's
    tokens += j.stats.tokens - 1;
    passes += j.stats.targetPasses - 1;
    ms += j.stats.elapsedMs;
    per.push(+((j.stats.tokens - 1) / Math.max(1, j.stats.targetPasses - 1)).toFixed(3));
  }
  res.byBudget[b] = {
    tokensPerTargetPass: +(tokens / passes).toFixed(3),
    meanOfPrompts: +(per.reduce((a, x) => a + x, 0) / per.length).toFixed(3),
    tokensPerSecond: +(tokens / (ms / 1000)).toFixed(1),
    perPrompt: per,
  };
  console.log(`budget ${b}: ${res.byBudget[b].tokensPerTargetPass} tokens/target pass (${res.byBudget[b].tokensPerSecond} tok/s)`);
}
fs.writeFileSync(path.join(WORK, 'pass_rate.json'), JSON.stringify(res, null, 1));
