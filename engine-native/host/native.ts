// Loads the N-API addon (build/Release/specexec.node, or a GPU variant) and types its surface.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type {
  CompletionStats, CostPoint, CpuInfo, DeviceInfo, InitializeParams, ModelInfo, OffloadInfo, PromptTrim, StopReason,
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
  prompt: string | { prefix: string; suffix: string };
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
}

export interface NativeResult {
  text: string;
  tokens: Uint32Array;
  stopReason: StopReason;
  stats: Omit<CompletionStats, 'tokensPerTargetPass' | 'tokensPerSecond' | 'overheadMs'>;
  trimmed?: PromptTrim;
}

export interface NativeEngine {
  load(params: InitializeParams & { calibrationCache?: string }): Promise<NativeLoadResult>;
  /** Without `onDelta` no text is streamed (the result still has all of it). */
  generate(request: NativeRequest, onDelta?: (delta: string, tokens: number) => void): Promise<NativeResult>;
  cancel(): void;
  close(): void;
  /** The target's next-token logits after `tokens`, from the engine's own KV cache (tests). */
  nextLogits(tokens: Uint32Array): Float32Array;
  /** One target pass of each batch size after the cached history, timed (median of three). */
  timeTargetPasses(batches: number[]): Promise<CostPoint[]>;
}

export interface TestTree {
  tokens: number[];
  parents: number[];
}

export interface GrownTree extends TestTree {
  depths: number[];
  scores: number[];
  leaves: number;
  passes: number;
  /** Per draft pass, the token paths of the nodes it expanded. */
  expanded: string[][];
}

export interface TreeGrowParams {
  shape: 'specexec' | 'specinfer' | 'chain';
  budget: number;
  maxDepth?: number;
  maxBeams?: number;
  maxBranch?: number;
  maxLeaves?: number;
  specinferK?: number;
  chainPMin?: number;
}

/** Bytes a model puts on a GPU (src/offload.h): its blocks, output head, KV per block, scratch. */
export interface OffloadSizes {
  layerBytes: number[];
  outputBytes: number;
  kvLayerBytes: number;
  computeBytes: number;
}

/** src/budget.h's automatic budget: candidates, choice, learning from rounds. */
export interface BudgetLearner {
  candidates: number[];
  choose(limit: number): number;
  observe(round: { budget: number; tokensWithin: number[]; otherMs: number; targetMs: number; treeNodes: number }): void;
  rates(): { budget: number; tokensPerMs: number }[];
  catchUpPays(budget: number, staleTokens: number, remaining: number): boolean;
}

/** The engine's tree code, budget chooser and offload arithmetic, exposed for tests. */
export interface NativeTesting {
  growTree(params: TreeGrowParams, table: Record<string, [number, number][]>): GrownTree;
  walk(tree: TestTree, draws: Record<number, number>): { accepted: number[]; bonus: number };
  verifyTreeLogits(path: string, history: Uint32Array, tree: TestTree, threads: number):
    { maxAbsDiff: number; argmaxMismatches: number; nodes: number };
  /** The automatic budget's state for these cost curves, driven round by round as the engine does. */
  budgetLearner(params: { draft: CostPoint[]; target: CostPoint[]; maxBudget: number }): BudgetLearner;
  /** Tokens a round yields within the best `budgets[i]` nodes of its tree (by score; node order without scores). */
  tokensWithin(tree: TestTree & { scores?: number[] }, accepted: number[], budgets: number[]): number[];
  offloadSizes(path: string, contextSize: number, ubatch: number): OffloadSizes;
  offloadChoose(draft: OffloadSizes | null, target: OffloadSizes, budgetBytes: number):
    { draftLayers: number; targetLayers: number; draftBytes: number; targetBytes: number };
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
  evalLogits(path: string, tokens: Uint32Array, threads: number): Float32Array;
  referenceGreedy(path: string, prompt: string | { prefix: string; suffix: string }, nTokens: number, threads: number): Uint32Array;
  formatChat(template: string | null, messages: { role: string; content: string }[]): string;
  /** One pass of each batch size by the cost model `auto` uses (src/budget.cpp), from a calibration curve. */
  passCost(curve: CostPoint[], batches: number[]): number[];
  systemInfo(): { llamaSystemInfo: string; maxSequences: number; defaultThreads: number; cpu: CpuInfo };
  devices(): DeviceInfo[];
  testing: NativeTesting;
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

/**
 * The addon file: $SPECEXEC_ADDON (a .node file), else <build>/Release/specexec.node where <build> is
 * $SPECEXEC_NATIVE_BUILD (a build directory such as build-vulkan, relative to the package root) or
 * build/ (the CPU build that `npm install` makes).
 */
export function addonPath(): string {
  if (process.env.SPECEXEC_ADDON) return process.env.SPECEXEC_ADDON;
  return path.resolve(packageRoot(), process.env.SPECEXEC_NATIVE_BUILD || 'build', 'Release', 'specexec.node');
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (!cached) {
    const file = addonPath();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as NativeAddon;
    } catch (e) {
      const variant = process.env.SPECEXEC_NATIVE_BUILD;
      throw new Error(`cannot load the native engine ${file}: ${(e as Error).message}. ` + (variant
        ? `Build that variant with SPECEXEC_BACKEND=${path.basename(variant).replace(/^build-/, '')} npm run build, ` +
          'or unset SPECEXEC_NATIVE_BUILD to use the CPU build.'
        : 'Build it with `npm run build` (needs cmake, a C++ compiler and git).'));
    }
  }
  return cached;
}
