// specexec bench: SpecExec against its baselines on the held-out benchmark prompts
// (bench/prompts.jsonl), with the bundled draft and two targets: the trained target and the GROWN
// target (the trained one grown to a real 1.1B shape: the realistic, memory-bound regime).
// Writes bench/results/<date>-<machine>.json and SVG plots beside it. Benchmarks are not tests:
// they print and save numbers and ratios measured in one run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAddon, packageRoot } from '../host/native';
import type { CompleteParams, CompleteResult, CostPoint, DecodingMode, InitializeResult } from '../host/protocol';
import { CliError, openEngine, resolveModels, type EngineSession, type ModelFlags } from './session';
import { ensureGrownTarget, GROWN_DESCRIPTION, GROWN_LABEL } from './grown-target';
import { LLAMA_CPP_PROGRAMS, llamaCppBaseline, type LlamaCppSpeeds } from './llama-cpp-baseline';
import { PAPER, project, SETUPS } from './projection';
import { lineChart, type Series } from './svg-plot';

export interface BenchPrompt {
  prefix: string;
  suffix?: string;
}

export interface BenchOptions extends ModelFlags {
  quick: boolean;
  /** Run llama.cpp's own programs (built on first use) for ratios ours/theirs. */
  llamaCpp: boolean;
  /** Also benchmark the grown target (bundled target only). */
  grown: boolean;
  /** Extra targets to compare with the same draft: label=path. */
  extraTargets?: { label: string; path: string }[];
}

/** What one target is put through. */
interface Plan {
  prompts: number;
  maxTokens: number;
  /** Modes and budgets of the sweep (tokens per pass and tokens/s against budget). */
  modes: DecodingMode[];
  budgets: number[];
  temperatures: number[];
  /** History lengths (tokens, about) for the prompt-length scaling. */
  historyTokens: number[];
  /** Completions of other held-out prompts that `auto` learns from before the wall clock. */
  autoWarmUpPrompts: number;
  /** The wall clock's fixed budget for specinfer and specexec (trees of 2^n - 1 nodes: passes of 2^n tokens). */
  fixedBudget: number;
  /** Prompts whose completion is also timed on cold caches (all when absent). */
  coldPrompts?: number;
}

const TREE_MODES: DecodingMode[] = ['specexec', 'specinfer', 'chain'];
// The trained target is fast: the whole matrix. The grown one costs ~70 ms a token here: the
// budgets that can pay on a CPU, and its tokens per pass equal the trained target's anyway.
const PLANS: Record<'quick' | 'full', { trained: Plan; grown: Plan }> = {
  quick: {
    trained: {
      prompts: 6,
      maxTokens: 24,
      modes: TREE_MODES,
      budgets: [1, 3, 7, 15, 31, 63, 127, 255],
      temperatures: [0],
      historyTokens: [128, 1024, 4096],
      autoWarmUpPrompts: 2,
      fixedBudget: 15,
    },
    // a cold first token on the grown target reads the whole prompt (~6-8 s): timed on one prompt only
    grown: {
      prompts: 3,
      maxTokens: 24,
      modes: ['specexec'],
      budgets: [1, 3, 7],
      temperatures: [0],
      historyTokens: [128, 512],
      autoWarmUpPrompts: 2,
      fixedBudget: 3,
      coldPrompts: 1,
    },
  },
  full: {
    trained: {
      prompts: 16,
      maxTokens: 48,
      modes: TREE_MODES,
      budgets: [1, 3, 7, 15, 31, 63, 127, 255, 511, 1023],
      temperatures: [0, 0.6],
      historyTokens: [128, 256, 512, 1024, 2048, 4096],
      autoWarmUpPrompts: 4,
      fixedBudget: 15,
    },
    grown: {
      prompts: 8,
      maxTokens: 48,
      modes: TREE_MODES,
      budgets: [1, 3, 7, 15, 31, 63],
      temperatures: [0],
      historyTokens: [128, 512, 2048],
      autoWarmUpPrompts: 4,
      fixedBudget: 15,
    },
  },
};
const CONTEXT = 4096 + 512;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/**
 * The median over prompts of each prompt's ratio a/b: prompts differ in speed by more than the
 * configurations do, and the two ran on the same prompt minutes apart, so the machine's drift and
 * the prompts' spread cancel (a ratio of two medians can pick different prompts).
 */
export const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits = 3) => +x.toFixed(digits);

export function loadPrompts(file: string): BenchPrompt[] {
  if (!existsSync(file)) throw new CliError(`benchmark prompts not found: ${file}`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as BenchPrompt);
}

// tokens/s counts the tokens after the first (which the prompt's pass yields) over the time after it
const decodeMs = (r: CompleteResult) => r.stats.elapsedMs - r.stats.promptMs;
const tokensAfterFirst = (r: CompleteResult) => Math.max(0, r.stats.tokens - 1);

interface Aggregate {
  /** Tokens per verification pass: the tokens after the first over the target passes after the prompt's. */
  tokensPerTargetPass: number;
  draftMsPerPass: number;
  targetMsPerPass: number;
  /** Median over prompts of tokens / decoding time (after the prompt's pass), with min and max. */
  tokensPerSecond: number;
  tokensPerSecondMin: number;
  tokensPerSecondMax: number;
  /** All prompts' tokens over all their decoding time: what the cost model predicts. */
  tokensPerSecondOverall: number;
  firstTokenMs: number;
  /** Trees of the verification rounds (the prompt's pass has none). */
  meanTreeSize: number;
  meanTreeDepth: number;
  meanTreeLeaves: number;
  /** Outputs identical to autoregressive (greedy runs only). */
  identicalToAutoregressive?: number;
}

function aggregate(results: CompleteResult[], reference?: CompleteResult[]): Aggregate {
  const passes = sum(results.map((r) => r.stats.targetPasses - 1));
  const tokens = sum(results.map(tokensAfterFirst));
  const tps = results.map((r) => r.stats.tokensPerSecond);
  const rounds = (key: 'treeSizes' | 'treeDepths' | 'treeLeaves') => results.flatMap((r) => r.stats[key].slice(1));
  return {
    tokensPerTargetPass: tokens / Math.max(passes, 1),
    draftMsPerPass: sum(results.map((r) => r.stats.draftMs)) / Math.max(passes, 1),
    targetMsPerPass: sum(results.map((r) => r.stats.targetMs)) / Math.max(passes, 1),
    tokensPerSecond: median(tps),
    tokensPerSecondMin: Math.min(...tps),
    tokensPerSecondMax: Math.max(...tps),
    tokensPerSecondOverall: (1000 * sum(results.map(tokensAfterFirst))) / sum(results.map(decodeMs)),
    firstTokenMs: median(results.map((r) => r.stats.firstTokenMs)),
    meanTreeSize: mean(rounds('treeSizes')),
    meanTreeDepth: mean(rounds('treeDepths')),
    meanTreeLeaves: mean(rounds('treeLeaves')),
    identicalToAutoregressive: reference ? results.filter((r, i) => r.text === reference[i].text).length : undefined,
  };
}

export function request(p: BenchPrompt, params: Omit<CompleteParams, 'prompt'>): CompleteParams {
  return { ...params, prompt: p.suffix ? { prefix: p.prefix, suffix: p.suffix } : p.prefix };
}

async function runAll(session: EngineSession, prompts: BenchPrompt[], params: Omit<CompleteParams, 'prompt'>): Promise<CompleteResult[]> {
  const out: CompleteResult[] = [];
  for (const p of prompts) out.push(await session.client.complete(request(p, params)));
  return out;
}

type Curve = CostPoint[];

/** One target pass of `n` tokens by the engine's own cost model (src/budget.cpp, the one `auto` uses). */
function costAt(curve: Curve, n: number): number {
  return curve.length === 0 ? NaN : loadAddon().passCost(curve, [n])[0];
}

/**
 * The cost model behind `auto`, for a fixed budget: every verification round costs one target pass
 * over its tree (its nodes + the root) from a cost curve, plus the rest of the round as measured
 * (draft passes, tree bookkeeping, sampling), which is what `auto` learns while generating. (A
 * specexec tree holds the budget's nodes; a chain stops at its maximum depth.)
 */
function predictedTokensPerSecond(results: CompleteResult[], curve: Curve): number {
  const passesMs = sum(results.flatMap((r) => r.stats.treeSizes.slice(1).map((nodes) => costAt(curve, nodes + 1))));
  const ms = sum(results.map((r) => decodeMs(r) - r.stats.targetMs)) + passesMs;
  return (1000 * sum(results.map(tokensAfterFirst))) / ms;
}

// The sweep's chains are at most this deep (the request's maxDepth): past the first budget that
// reaches it, every budget drafts the same chain, so the sweep does not run them again.
const CHAIN_MAX_DEPTH = 32;
const sweepBudgets = (mode: DecodingMode, budgets: number[]) =>
  mode === 'chain' ? budgets.filter((_b, i) => i === 0 || budgets[i - 1] < CHAIN_MAX_DEPTH) : budgets;

function modeParams(mode: DecodingMode, budget: number): Partial<CompleteParams> {
  // the sweep drafts fixed-length chains; the wall-clock table uses chain's own default (p-min 0.75)
  return mode === 'chain' ? { mode, draftMax: budget, draftPMin: 0, maxDepth: CHAIN_MAX_DEPTH } : { mode, budget };
}

type Row = Record<string, unknown>;

/** The pointwise median of curves over the same batch sizes. */
const medianCurve = (curves: Curve[]): Curve => curves[0].map((p, j) => ({ batch: p.batch, ms: median(curves.map((c) => c[j].ms)) }));

/**
 * The sweep: every configuration on every prompt. The cost model is checked against the target's
 * pass cost re-timed after each prompt's configurations, the median over the sweep's prompts (this
 * VM's speed drifts by up to 30% within minutes, which would otherwise count as the model's error;
 * one re-timing alone is noisy); its prediction from the start-up calibration is reported beside it.
 */
async function sweep(
  session: EngineSession,
  prompts: BenchPrompt[],
  plan: Plan,
  calibration: InitializeResult['calibration'],
  log: (line: string) => void,
): Promise<{ rows: Row[]; passCost: Curve }> {
  const base = { maxTokens: plan.maxTokens, seed: 1 };
  const rows: Row[] = [];
  const largestPass = Math.max(...plan.budgets) + 1;
  const batches = calibration.target.map((p) => p.batch).filter((b) => b <= largestPass);
  if (batches[batches.length - 1] < largestPass) batches.push(largestPass);
  const retimed: Curve[] = [];
  for (const temperature of plan.temperatures) {
    const configs: [DecodingMode, number][] = [
      ['autoregressive', 0],
      ...plan.modes.flatMap((mode) => sweepBudgets(mode, plan.budgets).map((b): [DecodingMode, number] => [mode, b])),
    ];
    // prompt by prompt, every configuration in a row: the caches keep the prompt (its pass is not
    // what the sweep measures), so only the first configuration of a prompt reads all of it
    const results = configs.map((): CompleteResult[] => []);
    const curves: Curve[] = [];
    for (const p of prompts) {
      for (const [i, [mode, budget]] of configs.entries()) {
        results[i].push(
          await session.client.complete(
            request(p, { ...base, temperature, ...(mode === 'autoregressive' ? { mode } : modeParams(mode, budget)) }),
          ),
        );
      }
      curves.push(await session.client.measurePassCost({ batches }));
    }
    retimed.push(...curves);
    const duringSweep = medianCurve(curves);
    const ar = results[0];
    const arAgg = aggregate(ar);
    rows.push({ mode: 'autoregressive', budget: 0, temperature, ...arAgg });
    log(
      `T=${temperature} autoregressive: ${arAgg.tokensPerSecond.toFixed(1)} tok/s, one pass ${arAgg.targetMsPerPass.toFixed(2)} ms ` +
        `(calibration ${costAt(calibration.target, 1).toFixed(2)} ms at start-up, ${duringSweep[0].ms.toFixed(2)} re-timed)`,
    );
    for (const [i, [mode, budget]] of configs.entries()) {
      if (i === 0) continue;
      const rs = results[i];
      const agg = aggregate(rs, temperature === 0 ? ar : undefined);
      const predicted = predictedTokensPerSecond(rs, duringSweep);
      const fromStartUp = predictedTokensPerSecond(rs, calibration.target);
      rows.push({
        mode,
        budget,
        temperature,
        ...agg,
        speedupVsAutoregressive: agg.tokensPerSecond / arAgg.tokensPerSecond,
        predictedTokensPerSecond: predicted,
        predictionError: predicted / agg.tokensPerSecondOverall - 1,
        predictedFromStartUpCalibration: fromStartUp,
        predictionErrorFromStartUpCalibration: fromStartUp / agg.tokensPerSecondOverall - 1,
      });
      log(
        `T=${temperature} ${mode.padEnd(9)} budget ${String(budget).padStart(4)}: ${agg.tokensPerTargetPass.toFixed(2)} tokens/pass, ` +
          `${agg.tokensPerSecond.toFixed(1)} tok/s (${(agg.tokensPerSecond / arAgg.tokensPerSecond).toFixed(2)}x; ` +
          `cost model ${predicted.toFixed(1)} [start-up curve ${fromStartUp.toFixed(1)}] vs ${agg.tokensPerSecondOverall.toFixed(1)} overall)` +
          (agg.identicalToAutoregressive !== undefined ? `, identical ${agg.identicalToAutoregressive}/${rs.length}` : ''),
      );
    }
  }
  const passCost = medianCurve(retimed);
  log(`target pass re-timed during the sweep (ms, median): ${passCost.map((p) => `${p.batch}:${p.ms.toFixed(1)}`).join(' ')}`);
  return { rows, passCost };
}

/** Fixed-budget specexec rows of the greedy sweep. */
const greedyFixed = (rows: Row[]) => rows.filter((x) => x.mode === 'specexec' && x.temperature === 0);

// Replaces what both KV caches hold (a draft round included), so that the next request reads its
// whole prompt, as the first request on a file does.
const FLUSH: CompleteParams = { prompt: '\n\n# unrelated\n', maxTokens: 2, mode: 'specexec', budget: 1, temperature: 0 };

/** The prompt as it was before the user typed its last line (or the second half of a one-liner). */
function beforeLastLine(p: BenchPrompt): BenchPrompt {
  const cut = p.prefix.lastIndexOf('\n', p.prefix.length - 2);
  return { ...p, prefix: p.prefix.slice(0, cut > 0 ? cut + 1 : Math.floor(p.prefix.length / 2)) };
}

/**
 * Wall clock at the settings a user gets, interleaved prompt by prompt so that a machine's drift
 * hits every configuration alike; `best` is the fastest fixed budget of the sweep. Each request
 * follows a completion of the same file before its last line was typed, as completions do while
 * one edits (time to first token: reading the new line, then the first pass); the first
 * completion in a file reads all of it, measured on cold caches for autoregressive and `auto`
 * (on the plan's first `coldPrompts`).
 */
/** `beside(j)` runs before our runs of prompt j (llama.cpp's programs, timed beside ours). */
async function wallClock(
  session: EngineSession,
  prompts: BenchPrompt[],
  plan: Plan,
  best: number,
  log: (line: string) => void,
  beside?: (j: number) => void,
): Promise<Row[]> {
  const configs: [string, Partial<CompleteParams>][] = [
    ['autoregressive', { mode: 'autoregressive' }],
    ['chain (draft-max 16, p-min 0.75)', { mode: 'chain' }],
    [`specinfer (budget ${plan.fixedBudget})`, { mode: 'specinfer', budget: plan.fixedBudget }],
    [`specexec (budget ${plan.fixedBudget})`, { mode: 'specexec', budget: plan.fixedBudget }],
    [`specexec (best fixed budget, ${best})`, { mode: 'specexec', budget: best }],
    ['specexec (auto)', { mode: 'specexec', budget: 'auto' }],
  ];
  const coldConfigs = new Set([0, configs.length - 1]);
  const results = configs.map((): CompleteResult[] => []);
  const cold = configs.map((): CompleteResult[] => []);
  for (const [j, p] of prompts.entries()) {
    beside?.(j);
    for (const [i, [, params]] of configs.entries()) {
      const settings = { maxTokens: plan.maxTokens, seed: 1, temperature: 0, ...params };
      if (coldConfigs.has(i) && j < (plan.coldPrompts ?? prompts.length)) {
        await session.client.complete(FLUSH);
        cold[i].push(await session.client.complete(request(p, settings)));
      }
      await session.client.complete(request(beforeLastLine(p), { ...settings, maxTokens: 2 })); // its first round syncs the draft
      results[i].push(await session.client.complete(request(p, settings)));
    }
  }
  const ar = aggregate(results[0]);
  return configs.map(([config, params], i) => {
    const agg = aggregate(results[i]);
    const tokensPerSecondPerPrompt = results[i].map((r) => r.stats.tokensPerSecond);
    const pairedSpeedupVsAutoregressive = pairedRatio(
      tokensPerSecondPerPrompt,
      results[0].map((r) => r.stats.tokensPerSecond),
    );
    const firstTokenMsCold = coldConfigs.has(i) ? median(cold[i].map((r) => r.stats.firstTokenMs)) : undefined;
    log(
      `${config.padEnd(34)} ${agg.tokensPerSecond.toFixed(1)} tok/s [${agg.tokensPerSecondMin.toFixed(1)}-${agg.tokensPerSecondMax.toFixed(1)}] ` +
        `(${(agg.tokensPerSecond / ar.tokensPerSecond).toFixed(2)}x, per prompt ${pairedSpeedupVsAutoregressive.toFixed(2)}x), first token ${agg.firstTokenMs.toFixed(1)} ms` +
        (firstTokenMsCold !== undefined ? ` (cold ${firstTokenMsCold.toFixed(1)} ms)` : '') +
        `, ${agg.tokensPerTargetPass.toFixed(2)} tokens/pass`,
    );
    return {
      config,
      mode: params.mode,
      budget: params.budget ?? null,
      ...agg,
      tokensPerSecondPerPrompt,
      firstTokenMsCold,
      speedupVsAutoregressive: agg.tokensPerSecond / ar.tokensPerSecond,
      pairedSpeedupVsAutoregressive,
      firstTokenRatio: agg.firstTokenMs / ar.firstTokenMs,
      budgetsChosen: params.budget === 'auto' ? histogram(results[i].flatMap((r) => r.stats.budgets.slice(1))) : undefined,
    };
  });
}

export function histogram(xs: number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) h[x] = (h[x] ?? 0) + 1;
  return h;
}

/** How decoding speed changes with the length of the history (held-out text, one long prompt). */
async function historyScaling(session: EngineSession, prompts: BenchPrompt[], plan: Plan, log: (line: string) => void): Promise<Row[]> {
  const longText = prompts
    .map((p) => p.prefix)
    .join('\n\n')
    .repeat(8);
  const rows: Row[] = [];
  for (const n of plan.historyTokens) {
    const text = longText.slice(0, n * 3); // ~3 bytes per token for code
    for (const [name, p] of [
      ['autoregressive', { mode: 'autoregressive' }],
      ['specexec (auto)', { mode: 'specexec' }],
    ] as const) {
      const r = (await runAll(session, [{ prefix: text }], { maxTokens: plan.maxTokens, temperature: 0, ...p }))[0];
      rows.push({
        config: name,
        historyTokens: r.stats.promptTokens,
        tokensPerSecond: r.stats.tokensPerSecond,
        promptMs: r.stats.promptMs,
      });
      log(`history ${String(r.stats.promptTokens).padStart(5)} tokens, ${name.padEnd(16)} ${r.stats.tokensPerSecond.toFixed(1)} tok/s`);
    }
  }
  return rows;
}

interface Target {
  label: string;
  path: string;
  description?: string;
  plan: Plan;
}

async function benchTarget(t: Target, flags: ModelFlags, allPrompts: BenchPrompt[], llamaCpp: boolean) {
  const prompts = allPrompts.slice(0, t.plan.prompts);
  const start = Date.now();
  const log = (line: string) => process.stdout.write(`[${t.label} ${((Date.now() - start) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const baseline = llamaCpp
    ? llamaCppBaseline(packageRoot(), t.path, flags.draft!, prompts, t.plan.maxTokens, flags.threads ?? os.availableParallelism())
    : undefined;
  const speeds: LlamaCppSpeeds[] = [];
  const session = await openEngine({ ...flags, target: t.path });
  const init = session.initialized as InitializeResult;
  try {
    log(`target pass against batch size (ms): ${init.calibration.target.map((p) => `${p.batch}:${p.ms.toFixed(1)}`).join(' ')}`);
    await runAll(session, prompts.slice(0, 1), { maxTokens: t.plan.maxTokens, mode: 'autoregressive' }); // warm-up
    const { rows, passCost } = await sweep(session, prompts, t.plan, init.calibration, log);
    const fixed = greedyFixed(rows);
    const best = fixed.reduce((a, b) => ((b.tokensPerSecond as number) > (a.tokensPerSecond as number) ? b : a));
    // `auto` learns while it generates and keeps what it learnt for the session: it starts the
    // wall clock as it would after a few completions, warmed up on other held-out prompts
    await runAll(session, allPrompts.slice(t.plan.prompts, t.plan.prompts + t.plan.autoWarmUpPrompts), {
      maxTokens: t.plan.maxTokens,
      temperature: 0,
      mode: 'specexec',
      budget: 'auto',
    });
    const wall = await wallClock(session, prompts, t.plan, best.budget as number, log, baseline && ((j) => speeds.push(baseline(j))));
    const theirs =
      baseline &&
      (Object.keys(LLAMA_CPP_PROGRAMS) as (keyof LlamaCppSpeeds)[]).map((k): Row => {
        const perPrompt = speeds.map((x) => x[k]);
        return {
          program: LLAMA_CPP_PROGRAMS[k],
          tokensPerSecond: median(perPrompt),
          min: Math.min(...perPrompt),
          max: Math.max(...perPrompt),
          tokensPerSecondPerPrompt: perPrompt,
        };
      });
    for (const r of theirs ?? [])
      log(`llama.cpp ${String(r.program).padEnd(62)} ${(r.tokensPerSecond as number).toFixed(1)} tok/s (median)`);
    const scaling = await historyScaling(session, prompts, t.plan, log);
    const tps = (config: string) => wall.find((w) => String(w.config).startsWith(config))!.tokensPerSecondPerPrompt as number[];
    const completion = theirs?.find((r) => r.program === LLAMA_CPP_PROGRAMS.completion);
    const speculative = theirs?.find((r) => r.program === LLAMA_CPP_PROGRAMS.speculative);
    const summary = {
      speedupVsAutoregressive: pairedRatio(tps('specexec (auto)'), tps('autoregressive')),
      speedupVsLlamaSpeculative: speculative ? pairedRatio(tps('specexec (auto)'), speculative.tokensPerSecondPerPrompt as number[]) : null,
      autoregressiveVsLlamaCpp: completion ? pairedRatio(tps('autoregressive'), completion.tokensPerSecondPerPrompt as number[]) : null,
      autoVsBestFixed: pairedRatio(tps('specexec (auto)'), tps('specexec (best fixed budget')),
      bestFixedBudget: best.budget,
      costModelMaxError: Math.max(...fixed.map((x) => Math.abs(x.predictionError as number))),
      costModelMaxErrorFromStartUpCalibration: Math.max(...fixed.map((x) => Math.abs(x.predictionErrorFromStartUpCalibration as number))),
    };
    log(`summary: ${JSON.stringify(summary, (_k, v) => (typeof v === 'number' ? round(v) : v))}`);
    return {
      label: t.label,
      description: t.description ?? init.target.description,
      target: init.target.path,
      targetParameters: init.target.parameters,
      draft: init.draft?.path ?? null,
      threads: init.threads,
      plan: t.plan,
      calibration: init.calibration,
      passCostDuringSweep: passCost,
      summary,
      llamaCpp: theirs ?? null,
      sweep: rows,
      wallClock: wall,
      scaling,
    };
  } finally {
    await session.close();
  }
}

type TargetResult = Awaited<ReturnType<typeof benchTarget>>;

function greedyCurve(rows: Row[]): [number, number][] {
  return greedyFixed(rows).map((x) => [x.budget as number, x.tokensPerTargetPass as number]);
}

function printProjection(rows: Row[]): void {
  process.stdout.write('\nPROJECTION (a model, not a measurement; see engine-native/cli/projection.ts):\n');
  for (const [label, curve] of [
    ['our pair', greedyCurve(rows)],
    ['paper', PAPER.tokensPerPass],
  ] as const) {
    const projected = project([...curve], label);
    for (const setup of SETUPS) {
      const mine = projected.filter((r) => r.setup === setup.name);
      const best = mine.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
      process.stdout.write(
        `  ${setup.name} [${label}]: autoregressive ${mine[0].tokensPerSecond.toFixed(2)} tok/s, ` +
          `SpecExec ${best.tokensPerSecond.toFixed(2)} tok/s at budget ${best.budget} (${(best.tokensPerSecond / mine[0].tokensPerSecond).toFixed(1)}x)\n`,
      );
    }
  }
}

function plots(outBase: string, results: TargetResult[]): string[] {
  const files: string[] = [];
  const write = (name: string, svg: string) => {
    writeFileSync(`${outBase}-${name}.svg`, svg);
    files.push(`${outBase}-${name}.svg`);
  };
  for (const r of results) {
    const greedy = r.sweep.filter((x) => x.temperature === 0);
    const byMode = (key: string, rows = greedy) =>
      r.plan.modes.map((mode): Series => ({
        name: mode,
        points: rows.filter((x) => x.mode === mode).map((x) => [x.budget as number, x[key] as number]),
      }));
    const sampled = r.sweep.filter((x) => x.temperature !== 0 && x.mode !== 'autoregressive');
    const sampledSeries = sampled.length
      ? byMode('tokensPerTargetPass', sampled).map((s) => ({ ...s, name: `${s.name}, T=${sampled[0].temperature}` }))
      : [];
    write(
      `${r.label}-tokens-per-pass`,
      lineChart([...byMode('tokensPerTargetPass'), ...sampledSeries], {
        title: `Generated tokens per target pass (${r.label} target)`,
        xLabel: 'budget (draft tree size)',
        yLabel: 'tokens per target pass',
        logX: true,
      }),
    );
    const ar = greedy.find((x) => x.mode === 'autoregressive')!.tokensPerSecond as number;
    const specexec = greedyFixed(r.sweep);
    write(
      `${r.label}-tokens-per-second`,
      lineChart(
        [
          ...byMode('tokensPerSecond'),
          { name: 'specexec, cost model', points: specexec.map((x) => [x.budget as number, x.predictedTokensPerSecond as number]) },
          { name: 'autoregressive', points: specexec.map((x) => [x.budget as number, ar]) },
        ],
        { title: `Tokens per second (${r.label} target, greedy, ${r.threads} threads)`, xLabel: 'budget', yLabel: 'tokens/s', logX: true },
      ),
    );
    write(
      `${r.label}-pass-cost`,
      lineChart(
        [
          { name: 'target', points: r.calibration.target.map((p) => [p.batch, p.ms / r.calibration.target[0].ms]) },
          {
            name: 'target, re-timed during the sweep',
            points: r.passCostDuringSweep.map((p) => [p.batch, p.ms / r.passCostDuringSweep[0].ms]),
          },
          { name: 'draft', points: r.calibration.draft.map((p) => [p.batch, p.ms / r.calibration.draft[0].ms]) },
        ],
        { title: `One forward pass against batch size (${r.label})`, xLabel: 'tokens in the pass', yLabel: 't(B) / t(1)', logX: true },
      ),
    );
  }
  return files;
}

function targetsToRun(options: BenchOptions, models: { target: string }, plans: { trained: Plan; grown: Plan }): Target[] {
  const targets: Target[] = [{ label: options.target ? 'target' : 'trained', path: models.target, plan: plans.trained }];
  // the grown target is the bundled target's: a custom pair brings its own realistic target
  if (options.grown && options.target === undefined) {
    targets.push({
      label: GROWN_LABEL,
      path: ensureGrownTarget(packageRoot(), models.target),
      description: GROWN_DESCRIPTION,
      plan: plans.grown,
    });
  }
  for (const t of options.extraTargets ?? []) targets.push({ ...t, plan: plans.grown });
  return targets;
}

export async function runBench(options: BenchOptions): Promise<void> {
  const root = packageRoot();
  const plans = PLANS[options.quick ? 'quick' : 'full'];
  const prompts = loadPrompts(path.join(root, 'bench', 'prompts.jsonl'));
  const models = resolveModels(options);
  if (!models.draft) throw new CliError('bench needs a draft model (--draft FILE)');
  const targets = targetsToRun(options, models, plans);
  // a fresh calibration: a cached one may have been measured on a busier machine
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'specexec-bench-cache-'));
  process.env.SPECEXEC_CACHE_DIR = cacheDir;
  const results: TargetResult[] = [];
  try {
    for (const t of targets) {
      results.push(await benchTarget(t, { ...options, draft: models.draft, contextSize: CONTEXT }, prompts, options.llamaCpp));
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const headline = results.find((r) => r.label === GROWN_LABEL) ?? results[0];
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${os.hostname()}${options.quick ? '-quick' : ''}`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          hostname: os.hostname(),
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
          loadAverage: os.loadavg(),
        },
        settings: { quick: options.quick, plans, promptsFile: 'bench/prompts.jsonl', threads: results[0].threads },
        headline: { target: headline.label, description: headline.description },
        ...headline.summary,
        results,
        projection: {
          label: 'MODEL, not a measurement: offloaded target on consumer GPUs (engine-native/cli/projection.ts)',
          setups: SETUPS,
          paper: PAPER,
          fromOurPair: project(greedyCurve(results[0].sweep), 'tokens per pass measured here with the bundled pair'),
          fromPaper: project(PAPER.tokensPerPass, 'tokens per pass published for Llama-2 7B -> 70B'),
        },
      },
      null,
      2,
    ) + '\n',
  );
  const files = plots(base, results);
  printProjection(results[0].sweep);
  process.stdout.write(
    `\nheadline (${headline.label} target): ${JSON.stringify(headline.summary, (_k, v) => (typeof v === 'number' ? round(v) : v))}\n`,
  );
  process.stdout.write(`wrote ${[`${base}.json`, ...files].map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
}
