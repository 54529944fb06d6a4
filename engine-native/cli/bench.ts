// specexec bench: SpecExec against its baselines on the held-out benchmark prompts
// (bench/prompts.jsonl). Writes bench/results/<date>-<machine>.json and SVG plots beside it.
// Benchmarks are not tests: they print and save numbers and ratios measured in one run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../host/native';
import type { CompleteParams, CompleteResult, DecodingMode, InitializeResult } from '../host/protocol';
import { CliError, openEngine, resolveModels, type EngineSession, type ModelFlags } from './session';
import { llamaCppBaselines } from './llama-cpp-baseline';
import { PAPER, project, SETUPS } from './projection';
import { lineChart, type Series } from './svg-plot';

interface BenchPrompt {
  prefix: string;
  suffix?: string;
}

export interface BenchOptions extends ModelFlags {
  quick: boolean;
  /** Also run llama.cpp's own programs (built on first use) for ratios ours/theirs. */
  llamaCpp: boolean;
  /** Extra targets to compare, e.g. a grown target: label=path. */
  extraTargets?: { label: string; path: string }[];
}

interface Settings {
  prompts: number;
  maxTokens: number;
  budgets: number[];
  temperatures: number[];
  /** History lengths (tokens, about) for the prompt-length scaling. */
  historyTokens: number[];
}

interface Aggregate {
  tokensPerTargetPass: number;
  draftMsPerPass: number;
  targetMsPerPass: number;
  tokensPerSecond: number;
  tokensPerSecondMin: number;
  tokensPerSecondMax: number;
  firstTokenMs: number;
  meanTreeSize: number;
  meanTreeDepth: number;
  meanTreeLeaves: number;
  /** Outputs identical to autoregressive (greedy runs only). */
  identicalToAutoregressive?: number;
}

const QUICK: Settings = { prompts: 6, maxTokens: 32, budgets: [1, 4, 16, 64, 256], temperatures: [0], historyTokens: [128, 1024, 4096] };
const FULL: Settings = {
  prompts: 40, maxTokens: 64, budgets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], temperatures: [0, 0.6],
  historyTokens: [128, 256, 512, 1024, 2048, 4096],
};
const CONTEXT = 4096 + 512;
const FIXED_BUDGET = 16;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

function loadPrompts(file: string, n: number): BenchPrompt[] {
  if (!existsSync(file)) throw new CliError(`benchmark prompts not found: ${file}`);
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as BenchPrompt).slice(0, n);
}

function aggregate(results: CompleteResult[], reference?: CompleteResult[]): Aggregate {
  const tokens = results.reduce((a, r) => a + r.stats.tokens, 0);
  const passes = results.reduce((a, r) => a + r.stats.targetPasses, 0);
  const tps = results.map((r) => r.stats.tokensPerSecond);
  const trees = results.flatMap((r) => r.stats.treeSizes);
  return {
    tokensPerTargetPass: tokens / Math.max(passes, 1),
    draftMsPerPass: results.reduce((a, r) => a + r.stats.draftMs, 0) / Math.max(passes, 1),
    targetMsPerPass: results.reduce((a, r) => a + r.stats.targetMs, 0) / Math.max(passes, 1),
    tokensPerSecond: median(tps),
    tokensPerSecondMin: Math.min(...tps),
    tokensPerSecondMax: Math.max(...tps),
    firstTokenMs: median(results.map((r) => r.stats.firstTokenMs)),
    meanTreeSize: trees.length ? mean(trees) : 0,
    meanTreeDepth: mean(results.flatMap((r) => r.stats.treeDepths)),
    meanTreeLeaves: mean(results.flatMap((r) => r.stats.treeLeaves)),
    identicalToAutoregressive: reference ? results.filter((r, i) => r.text === reference[i].text).length : undefined,
  };
}

async function runAll(session: EngineSession, prompts: BenchPrompt[], params: Omit<CompleteParams, 'prompt'>): Promise<CompleteResult[]> {
  const out: CompleteResult[] = [];
  for (const p of prompts) {
    out.push(await session.client.complete({ ...params, prompt: p.suffix ? { prefix: p.prefix, suffix: p.suffix } : p.prefix }));
  }
  return out;
}

/** One target pass of `n` tokens from the calibration curve (linear between points, beyond the last). */
function costAt(curve: { batch: number; ms: number }[], n: number): number {
  if (curve.length === 0) return NaN;
  let i = curve.findIndex((p) => p.batch >= n);
  if (i === 0) return curve[0].ms;
  if (i < 0) i = curve.length - 1;
  const a = curve[Math.max(0, i - 1)], b = curve[i];
  return b.batch === a.batch ? b.ms : a.ms + ((n - a.batch) / (b.batch - a.batch)) * (b.ms - a.ms);
}

function modeParams(mode: DecodingMode, budget: number): Partial<CompleteParams> {
  // the sweep drafts fixed-length chains; the wall-clock table uses chain's own default (p-min 0.75)
  return mode === 'chain' ? { mode, draftMax: budget, draftPMin: 0 } : { mode, budget };
}

async function benchTarget(label: string, flags: ModelFlags, prompts: BenchPrompt[], s: Settings) {
  const session = await openEngine(flags);
  const init = session.initialized as InitializeResult;
  const log = (line: string) => process.stdout.write(`[${label}] ${line}\n`);
  try {
    const base = { maxTokens: s.maxTokens, seed: 1 };
    await runAll(session, prompts.slice(0, 1), { ...base, mode: 'autoregressive' }); // warm-up
    const sweep: Record<string, unknown>[] = [];
    for (const temperature of s.temperatures) {
      const ar = await runAll(session, prompts, { ...base, temperature, mode: 'autoregressive' });
      const arAgg = aggregate(ar);
      sweep.push({ mode: 'autoregressive', budget: 0, temperature, ...arAgg });
      log(`T=${temperature} autoregressive: ${arAgg.tokensPerSecond.toFixed(1)} tok/s`);
      for (const mode of ['specexec', 'specinfer', 'chain'] as DecodingMode[]) {
        for (const budget of s.budgets) {
          const rs = await runAll(session, prompts, { ...base, temperature, ...modeParams(mode, budget) });
          const agg = aggregate(rs, temperature === 0 ? ar : undefined);
          // the cost model behind `auto`: start-up calibration of the target pass + measured draft time
          const predicted = (1000 * agg.tokensPerTargetPass) / (agg.draftMsPerPass + costAt(init.calibration.target, budget + 1));
          sweep.push({ mode, budget, temperature, ...agg, speedupVsAutoregressive: agg.tokensPerSecond / arAgg.tokensPerSecond,
            predictedTokensPerSecond: predicted, predictionError: predicted / agg.tokensPerSecond - 1 });
          log(`T=${temperature} ${mode.padEnd(9)} budget ${String(budget).padStart(4)}: ${agg.tokensPerTargetPass.toFixed(2)} tokens/pass, ` +
            `${agg.tokensPerSecond.toFixed(1)} tok/s (${(agg.tokensPerSecond / arAgg.tokensPerSecond).toFixed(2)}x)` +
            (agg.identicalToAutoregressive !== undefined ? `, identical ${agg.identicalToAutoregressive}/${rs.length}` : ''));
        }
      }
    }
    // wall-clock at the settings a user gets: fixed budget, automatic budget, the baselines' defaults
    const wall: Record<string, unknown>[] = [];
    const configs: [string, Partial<CompleteParams>][] = [
      ['autoregressive', { mode: 'autoregressive' }],
      ['chain (draft-max 16, p-min 0.75)', { mode: 'chain' }],
      [`specinfer (budget ${FIXED_BUDGET})`, { mode: 'specinfer', budget: FIXED_BUDGET }],
      [`specexec (budget ${FIXED_BUDGET})`, { mode: 'specexec', budget: FIXED_BUDGET }],
      ['specexec (auto)', { mode: 'specexec', budget: 'auto' }],
    ];
    let arTps = NaN, arTtft = NaN;
    for (const [name, p] of configs) {
      const agg = aggregate(await runAll(session, prompts, { ...base, temperature: 0, ...p }));
      if (name === 'autoregressive') [arTps, arTtft] = [agg.tokensPerSecond, agg.firstTokenMs];
      wall.push({ config: name, ...agg, speedupVsAutoregressive: agg.tokensPerSecond / arTps, firstTokenRatio: agg.firstTokenMs / arTtft });
      log(`${name.padEnd(34)} ${agg.tokensPerSecond.toFixed(1)} tok/s [${agg.tokensPerSecondMin.toFixed(1)}-${agg.tokensPerSecondMax.toFixed(1)}] ` +
        `(${(agg.tokensPerSecond / arTps).toFixed(2)}x), first token ${agg.firstTokenMs.toFixed(1)} ms, ${agg.tokensPerTargetPass.toFixed(2)} tokens/pass`);
    }
    // how decoding speed changes with the length of the history (held-out text, one long prompt)
    const longText = prompts.map((p) => p.prefix).join('\n\n').repeat(8);
    const scaling: Record<string, unknown>[] = [];
    for (const n of s.historyTokens) {
      const text = longText.slice(0, n * 3); // ~3 bytes per token for code
      for (const [name, p] of [['autoregressive', { mode: 'autoregressive' }], ['specexec (auto)', { mode: 'specexec' }]] as const) {
        const r = (await runAll(session, [{ prefix: text }], { ...base, temperature: 0, ...p }))[0];
        scaling.push({ config: name, historyTokens: r.stats.promptTokens, tokensPerSecond: r.stats.tokensPerSecond, promptMs: r.stats.promptMs });
        log(`history ${String(r.stats.promptTokens).padStart(5)} tokens, ${name.padEnd(16)} ${r.stats.tokensPerSecond.toFixed(1)} tok/s`);
      }
    }
    return { label, target: init.target.path, scaling, targetDescription: init.target.description, targetParameters: init.target.parameters,
      draft: init.draft?.path ?? null, threads: init.threads, calibration: init.calibration, sweep, wallClock: wall };
  } finally {
    await session.close();
  }
}

function greedyCurve(sweep: Record<string, unknown>[]): [number, number][] {
  return sweep.filter((x) => x.mode === 'specexec' && x.temperature === 0).map((x) => [x.budget as number, x.tokensPerTargetPass as number]);
}

function printProjection(sweep: Record<string, unknown>[]): void {
  process.stdout.write('\nPROJECTION (a model, not a measurement; see engine-native/cli/projection.ts):\n');
  for (const [label, curve] of [['our pair', greedyCurve(sweep)], ['paper', PAPER.tokensPerPass]] as const) {
    const rows = project([...curve], label);
    for (const setup of SETUPS) {
      const mine = rows.filter((r) => r.setup === setup.name);
      const best = mine.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
      process.stdout.write(`  ${setup.name} [${label}]: autoregressive ${mine[0].tokensPerSecond.toFixed(2)} tok/s, ` +
        `SpecExec ${best.tokensPerSecond.toFixed(2)} tok/s at budget ${best.budget} (${(best.tokensPerSecond / mine[0].tokensPerSecond).toFixed(1)}x)\n`);
    }
  }
}

function plots(outBase: string, results: Awaited<ReturnType<typeof benchTarget>>[]): string[] {
  const files: string[] = [];
  const write = (name: string, svg: string) => { writeFileSync(`${outBase}-${name}.svg`, svg); files.push(`${outBase}-${name}.svg`); };
  for (const r of results) {
    const greedy = r.sweep.filter((x) => x.temperature === 0);
    const byMode = (key: string) => (['specexec', 'specinfer', 'chain'] as const).map((mode): Series => ({
      name: mode, points: greedy.filter((x) => x.mode === mode).map((x) => [x.budget as number, x[key] as number]),
    }));
    write(`${r.label}-tokens-per-pass`, lineChart(byMode('tokensPerTargetPass'),
      { title: `Generated tokens per target pass (${r.label} target, greedy)`, xLabel: 'budget (draft tree size)', yLabel: 'tokens per target pass', logX: true }));
    const ar = greedy.find((x) => x.mode === 'autoregressive')!.tokensPerSecond as number;
    write(`${r.label}-tokens-per-second`, lineChart([...byMode('tokensPerSecond'), { name: 'autoregressive', points: byMode('tokensPerSecond')[0].points.map(([b]) => [b, ar]) }],
      { title: `Tokens per second (${r.label} target, greedy, ${r.threads} threads)`, xLabel: 'budget', yLabel: 'tokens/s', logX: true }));
    write(`${r.label}-pass-cost`, lineChart([
      { name: 'target', points: r.calibration.target.map((p) => [p.batch, p.ms / r.calibration.target[0].ms]) },
      { name: 'draft', points: r.calibration.draft.map((p) => [p.batch, p.ms / r.calibration.draft[0].ms]) },
    ], { title: `One forward pass against batch size (${r.label})`, xLabel: 'tokens in the pass', yLabel: 't(B) / t(1)', logX: true }));
  }
  return files;
}

export async function runBench(options: BenchOptions): Promise<void> {
  const root = packageRoot();
  const s = options.quick ? QUICK : FULL;
  const prompts = loadPrompts(path.join(root, 'bench', 'prompts.jsonl'), s.prompts);
  const models = resolveModels(options);
  if (!models.draft) throw new CliError('bench needs a draft model (--draft FILE)');
  const targets = [{ label: 'trained', path: models.target }, ...(options.extraTargets ?? [])];
  const results = [];
  let llamaCpp: Record<string, unknown> | undefined;
  if (options.llamaCpp) {
    const threads = options.threads ?? os.availableParallelism();
    const theirs = llamaCppBaselines(root, models.target, models.draft, prompts.map((p) => p.prefix), s.maxTokens, threads);
    llamaCpp = { threads, programs: theirs.map((t) => ({ program: t.program, tokensPerSecond: median(t.tokensPerSecond),
      min: Math.min(...t.tokensPerSecond), max: Math.max(...t.tokensPerSecond) })) };
    for (const t of theirs) process.stdout.write(`[llama.cpp] ${t.program.padEnd(60)} ${median(t.tokensPerSecond).toFixed(1)} tok/s (median)\n`);
  }
  for (const t of targets) {
    results.push(await benchTarget(t.label, { ...options, target: t.path, draft: models.draft, contextSize: CONTEXT }, prompts, s));
  }
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${os.hostname()}${options.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify({
    date: new Date().toISOString(),
    machine: { hostname: os.hostname(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), loadAverage: os.loadavg() },
    settings: { ...s, promptsFile: 'bench/prompts.jsonl' }, results,
    projection: {
      label: 'MODEL, not a measurement: offloaded target on consumer GPUs (engine-native/cli/projection.ts)',
      setups: SETUPS, paper: PAPER,
      fromOurPair: project(greedyCurve(results[0].sweep), 'tokens per pass measured here with the bundled pair'),
      fromPaper: project(PAPER.tokensPerPass, 'tokens per pass published for Llama-2 7B -> 70B'),
    },
  }, null, 2) + '\n');
  const files = plots(base, results);
  printProjection(results[0].sweep);
  if (llamaCpp) writeFileSync(`${base}.json`, JSON.stringify({ ...JSON.parse(readFileSync(`${base}.json`, 'utf8')), llamaCpp }, null, 2) + '\n');
  process.stdout.write(`wrote ${[`${base}.json`, ...files].map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
}
