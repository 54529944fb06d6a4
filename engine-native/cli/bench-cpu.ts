// specexec bench-cpu: what the portable build gives away against a native one, and what AMX buys,
// on the grown 1.1B-shaped target. Per configuration (build x CPU variant): one target pass against
// batch size (the tree-shaped curve `auto` prices trees with), `auto`'s budget, and `auto`'s speed
// over autoregressive. Configurations take turns round by round and prompt by prompt, so that the
// machine's drift hits them alike. A benchmark, not a test: it prints and saves what it measured.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../host/native';
import type { CompleteResult, CostPoint, CpuInfo } from '../host/protocol';
import { histogram, loadPrompts, median, pairedRatio, request } from './bench';
import { ensureGrownTarget, GROWN_DESCRIPTION } from './grown-target';
import { openEngine, resolveModels, type EngineSession } from './session';

const BATCHES = [1, 2, 4, 8, 16, 32, 64];
const ROUNDS = 5;
const PROMPTS = 4;
const MAX_TOKENS = 32;
const THREADS = 2;
/** AMX needs these (ggml's sapphirerapids variant): the best variant without them is "AMX off". */
const AMX_FEATURES = ['AMX_TILE', 'AMX_INT8'];

interface Config {
  label: string;
  env: NodeJS.ProcessEnv;
}

interface ConfigResult {
  label: string;
  cpu: CpuInfo;
  /** Median over rounds of one tree-shaped target pass, by batch size. */
  passMs: CostPoint[];
  /** Median over prompts of tokens/s after the first token. */
  autoregressiveTokensPerSecond: number;
  autoTokensPerSecond: number;
  /** Median over prompts of auto's tokens/s over autoregressive's on the same prompt. */
  autoSpeedup: number;
  /** The budgets auto chose, over every verification round. */
  autoBudgets: Record<string, number>;
  /** Greedy outputs identical to the first configuration's (autoregressive and auto). */
  identicalToFirst: number;
}

/** Portable (best variant), native when build-native/ exists, and AMX off when this CPU has AMX. */
function configs(root: string, portableCpu: CpuInfo): Config[] {
  const out: Config[] = [{ label: `portable (${portableCpu.variant})`, env: { SPECEXEC_NATIVE_BUILD: 'build' } }];
  if (existsSync(path.join(root, 'build-native', 'Release', 'specexec.node'))) {
    out.push({ label: 'native (-march=native)', env: { SPECEXEC_NATIVE_BUILD: 'build-native' } });
  }
  if (AMX_FEATURES.every((f) => portableCpu.featuresUsed.includes(f))) {
    const others = portableCpu.variants.filter((v) => v.score > 0 && v.name !== portableCpu.variant);
    const best = others.reduce((a, b) => (b.score > a.score ? b : a));
    out.push({ label: `portable, AMX off (${best.name})`, env: { SPECEXEC_NATIVE_BUILD: 'build', SPECEXEC_CPU_VARIANT: best.name } });
  }
  return out;
}

/** The engine's own rate: tokens after the first over the time after it. */
const tokensPerSecond = (r: CompleteResult) => r.stats.tokensPerSecond;

export async function runCpuBench(): Promise<void> {
  const root = packageRoot();
  const models = resolveModels({});
  const target = ensureGrownTarget(root, models.target);
  const prompts = loadPrompts(path.join(root, 'bench', 'prompts.jsonl')).slice(0, PROMPTS);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'specexec-bench-cpu-'));
  const sessions: EngineSession[] = [];
  try {
    const open = (env: NodeJS.ProcessEnv) =>
      openEngine({ target, draft: models.draft!, threads: THREADS }, { ...env, SPECEXEC_CACHE_DIR: cacheDir });
    const first = await open({ SPECEXEC_NATIVE_BUILD: 'build' });
    sessions.push(first);
    const plan = configs(root, first.initialized!.cpu);
    for (const c of plan.slice(1)) sessions.push(await open(c.env));
    process.stdout.write(`${plan.length} configurations: ${plan.map((c) => c.label).join(', ')}\n`);

    const curves: CostPoint[][][] = plan.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < plan.length; i++) curves[i].push(await sessions[i].client.measurePassCost({ batches: BATCHES }));
    }
    const runs = plan.map(() => ({ ar: [] as CompleteResult[], auto: [] as CompleteResult[] }));
    for (const p of prompts) {
      for (let i = 0; i < plan.length; i++) {
        runs[i].ar.push(await sessions[i].client.complete(request(p, { maxTokens: MAX_TOKENS, temperature: 0, mode: 'autoregressive' })));
        runs[i].auto.push(await sessions[i].client.complete(request(p, { maxTokens: MAX_TOKENS, temperature: 0, mode: 'specexec' })));
      }
    }
    const results: ConfigResult[] = plan.map((c, i) => ({
      label: c.label,
      cpu: sessions[i].initialized!.cpu,
      passMs: BATCHES.map((batch, b) => ({ batch, ms: +median(curves[i].map((curve) => curve[b].ms)).toFixed(2) })),
      autoregressiveTokensPerSecond: +median(runs[i].ar.map(tokensPerSecond)).toFixed(1),
      autoTokensPerSecond: +median(runs[i].auto.map(tokensPerSecond)).toFixed(1),
      autoSpeedup: +pairedRatio(runs[i].auto.map(tokensPerSecond), runs[i].ar.map(tokensPerSecond)).toFixed(3),
      autoBudgets: histogram(runs[i].auto.flatMap((r) => r.stats.budgets.slice(1))),
      identicalToFirst: [...runs[i].ar, ...runs[i].auto].filter((r, k) => r.text === [...runs[0].ar, ...runs[0].auto][k].text).length,
    }));
    report(root, results);
  } finally {
    for (const s of sessions) await s.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function report(root: string, results: ConfigResult[]): void {
  const base = results[0];
  process.stdout.write(`\none grown-target pass (ms, median of ${ROUNDS} rounds) by batch: ${BATCHES.join(' ')}\n`);
  for (const r of results) {
    const ratio = (r.passMs[0].ms / base.passMs[0].ms).toFixed(3);
    process.stdout.write(
      `${r.label.padEnd(34)} ${r.passMs.map((p) => p.ms.toFixed(1)).join(' ')}  (batch 1: ${ratio}x the first)\n` +
        `${''.padEnd(34)} autoregressive ${r.autoregressiveTokensPerSecond} tok/s, auto ${r.autoTokensPerSecond} tok/s ` +
        `(${r.autoSpeedup}x), budgets ${JSON.stringify(r.autoBudgets)}, identical text ${r.identicalToFirst}/${2 * PROMPTS}\n`,
    );
  }
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${os.hostname()}-cpu.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { hostname: os.hostname(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverage: os.loadavg() },
        target: GROWN_DESCRIPTION,
        settings: { batches: BATCHES, rounds: ROUNDS, prompts: PROMPTS, maxTokens: MAX_TOKENS, threads: THREADS },
        results,
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
