// The testing addon (build/Release/specexec-testing.node): the shipped addon plus what only tests
// use: the reference oracles, the engine's tree code, budget chooser and offload arithmetic, and
// the deliberately broken acceptance rule the sampling test must catch. Never packaged. Load it
// before anything loads the engine: a process holds one addon, and product code in a test process
// then runs on this one.
import { loadAddonNamed, type NativeAddon, type NativeEngine, type NativeRequest } from '../../engine-native/host/native';
import type { CostPoint } from '../../engine-native/host/protocol';

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
  /** The target's next-token logits after `tokens`, from the engine's own KV cache (reusing its prefix). */
  nextLogits(engine: NativeEngine, tokens: Uint32Array): Float32Array;
  growTree(params: TreeGrowParams, table: Record<string, [number, number][]>): GrownTree;
  walk(tree: TestTree, draws: Record<number, number>): { accepted: number[]; bonus: number };
  verifyTreeLogits(
    path: string,
    history: Uint32Array,
    tree: TestTree,
    threads: number,
  ): { maxAbsDiff: number; argmaxMismatches: number; nodes: number };
  /** The automatic budget's state for these cost curves, driven round by round as the engine does. */
  budgetLearner(params: { draft: CostPoint[]; target: CostPoint[]; maxBudget: number }): BudgetLearner;
  /** Tokens a round yields within the best `budgets[i]` nodes of its tree (by score; node order without scores). */
  tokensWithin(tree: TestTree & { scores?: number[] }, accepted: number[], budgets: number[]): number[];
  offloadSizes(path: string, contextSize: number, ubatch: number): OffloadSizes;
  offloadChoose(
    draft: OffloadSizes | null,
    target: OffloadSizes,
    budgetBytes: number,
  ): { draftLayers: number; targetLayers: number; draftBytes: number; targetBytes: number };
}

export interface NativeTestingAddon extends NativeAddon {
  /** Logits of every position of one causal pass over the tokens (n_tokens x n_vocab), no engine code. */
  evalLogits(path: string, tokens: Uint32Array, threads: number): Float32Array;
  /** Greedy continuation, one llama_decode per token in a fresh context, no engine code. */
  referenceGreedy(path: string, prompt: string | { prefix: string; suffix: string }, nTokens: number, threads: number): Uint32Array;
  testing: NativeTesting;
}

/** A request with the testing addon's broken rule: accept every node's best draft child unchecked. */
export type TestingRequest = NativeRequest & { _unsafeAcceptDraft?: boolean };

export function testingAddon(): NativeTestingAddon {
  return loadAddonNamed('specexec-testing') as NativeTestingAddon;
}
