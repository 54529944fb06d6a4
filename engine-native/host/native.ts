// Loads the N-API addon (build/Release/specexec.node, or a GPU variant) and types its surface.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type {
  CompletionStats,
  FimPrompt,
  FirstTokenChoice,
  RenderPromptResult,
  WarmResult,
  CostPoint,
  CpuInfo,
  DeviceInfo,
  InitializeParams,
  ModelInfo,
  OffloadInfo,
  PromptTrim,
  StopReason,
} from './protocol';

export interface NativeLoadResult {
  target: ModelInfo;
  draft: ModelInfo | null;
  threads: number;
  contextSize: number;
  maxBudget: number;
  calibration: { target: CostPoint[]; draft: CostPoint[] };
  offload: OffloadInfo;
}

export interface NativeRequest {
  prompt: string | FimPrompt;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop: string[];
  mode: string;
  budget: number;
  maxDepth: number;
  draftMax: number;
  draftPMin: number;
  forcedTokens?: number[];
  alternatives?: number;
}

export interface NativeResult {
  text: string;
  tokens: Uint32Array;
  alternatives: FirstTokenChoice[];
  stopReason: StopReason;
  stats: Omit<CompletionStats, 'tokensPerTargetPass' | 'tokensPerSecond' | 'overheadMs'>;
  trimmed?: PromptTrim;
}

export interface NativeEngine {
  load(params: InitializeParams & { calibrationCache?: string }): Promise<NativeLoadResult>;
  /**
   * Without `onDelta` no text is streamed (the result still has all of it). `nested` while a
   * generation runs: this one runs inside it at its next step, its state kept aside and put back
   * (rejected with Busy when another nested one waits, or the running one is ending).
   */
  generate(request: NativeRequest, onDelta?: (delta: string, tokens: number) => void, nested?: boolean): Promise<NativeResult>;
  cancel(): void;
  /** Stops the nested generation (or drops it, with stop reason cancelled, while it waits). */
  cancelNested(): void;
  /** A count that moves while a generation runs (llama.cpp's polls between graph nodes, and each pass), unless the engine is stuck. */
  heartbeat(): number;
  close(): void;
  /** One target pass of each batch size after the cached history, timed (median of three). */
  timeTargetPasses(batches: number[]): Promise<CostPoint[]>;
  /** Reads the prompt into both caches without generating; cancel() stops it (what was read stays). */
  warm(prompt: NativeRequest['prompt'], maxTokens: number): Promise<WarmResult>;
  /** The prompt's tokens as a generation of maxTokens would read them (synchronous: reads the vocabulary only). */
  renderPrompt(prompt: NativeRequest['prompt'], maxTokens: number): RenderPromptResult;
}

export interface NativeTokenizer {
  tokenize(text: string, parseSpecial: boolean): Uint32Array;
  detokenize(tokens: Uint32Array | number[]): string;
  vocabSize(): number;
  close(): void;
}

export interface NativeAddon {
  Engine: new () => NativeEngine;
  Tokenizer: new (path: string) => NativeTokenizer;
  inspectModel(path: string): Promise<ModelInfo>;
  formatChat(template: string | null, messages: { role: string; content: string }[]): string;
  /** One pass of each batch size by the cost model `auto` uses (src/budget.cpp), from a calibration curve. */
  passCost(curve: CostPoint[], batches: number[]): number[];
  systemInfo(): { llamaSystemInfo: string; maxSequences: number; defaultThreads: number; cpu: CpuInfo };
  devices(): DeviceInfo[];
  /** The user id of the process at the other end of a connected Unix domain socket. */
  peerUid(fd: number): number;
  /** An exclusive lock on the file until this process exits (flock); false when another process holds it. */
  holdLock(file: string): boolean;
}

/** An error thrown by the addon carries the engine's stable error code. */
export interface NativeError extends Error {
  code: number;
}

/** The package root: the nearest folder above this bundle (dist/, dist/test/...) with our package.json. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'specexec-code') return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}

export type AddonName = 'specexec' | 'specexec-testing';

/**
 * The addon file: $SPECEXEC_ADDON (a .node file; the testing addon beside it), else
 * <build>/Release/<name>.node where <build> is $SPECEXEC_NATIVE_BUILD (a build directory such as
 * build-vulkan, relative to the package root) or build/ (the CPU build that `npm install` makes).
 * specexec-testing.node is the test suites' superset of the shipped addon (never packaged).
 */
export function addonPath(name: AddonName = 'specexec'): string {
  const given = process.env.SPECEXEC_ADDON;
  if (given) return name === 'specexec' ? given : path.join(path.dirname(given), `${name}.node`);
  return path.resolve(packageRoot(), process.env.SPECEXEC_NATIVE_BUILD || 'build', 'Release', `${name}.node`);
}

// One addon per process: two would each load the CPU backend into the one ggml both link.
let cached: { name: AddonName; addon: unknown } | undefined;

/** The shipped addon, or the testing addon when this process loaded that first (a superset). */
export function loadAddon(): NativeAddon {
  return (cached ?? load('specexec')).addon as NativeAddon;
}

/** Loads an addon by name; the testing suites' loader (test/helpers/testing-addon.ts) uses it first. */
export function loadAddonNamed(name: AddonName): unknown {
  if (cached && cached.name !== name) {
    throw new Error(`${cached.name}.node is already loaded in this process: load ${name}.node before anything loads the engine`);
  }
  return (cached ?? load(name)).addon;
}

function load(name: AddonName): { name: AddonName; addon: unknown } {
  const file = addonPath(name);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = { name, addon: require(file) };
    return cached;
  } catch (e) {
    const variant = process.env.SPECEXEC_NATIVE_BUILD;
    throw new Error(
      `cannot load the native engine ${file}: ${(e as Error).message}. ` +
        (variant
          ? `Build that variant with SPECEXEC_BACKEND=${path.basename(variant).replace(/^build-/, '')} npm run build, ` +
            'or unset SPECEXEC_NATIVE_BUILD to use the CPU build.'
          : 'Build it with `npm run build` (needs cmake, a C++ compiler and git).'),
      { cause: e },
    );
  }
}
