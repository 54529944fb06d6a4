// Draft/target pairs from the models on disk. A pair is offered only when the engine's own
// vocabulary check accepts it (fingerprint.ts: vocabCompatible), the draft is much smaller than the
// target, and the memory both need is known; "fits" compares it with the RAM the caller says is
// free and, on a GPU build, places the pair in the VRAM budget as the engine would (memory.ts:
// chooseOffload): SpecExec's regime wants the whole draft on the GPU beside the target's scratch,
// and the target's remaining layers in RAM. Base models with FIM tokens rank before instruct ones:
// completion wants fill-in-the-middle.
import { DEFAULTS } from '../host/protocol';
import { vocabCompatible } from './fingerprint';
import { chooseOffload, DRAFT_BATCH, modelMemory, offloadLayerCount, offloadSizes, targetBatch, type ModelMemory } from './memory';
import type { CatalogModel } from './scan';

/** What pairing needs of a scanned model (CatalogModel has it). */
export type PairableModel = Pick<CatalogModel, 'info' | 'instruct'>;

export interface PairingOptions {
  /** RAM the two models may use, in bytes: availableMemoryBytes() on this machine. */
  availableBytes: number;
  /** Each model's context (the engine's contextSize); default DEFAULTS.initialize.contextSize. */
  contextSize?: number;
  /** The largest draft tree (the engine's maxBudget): it sizes the target's batch buffers. */
  maxBudget?: number;
  /** A draft has at most this share of its target's parameters; a larger one costs too much per tree. Default 1/4. */
  maxDraftShare?: number;
  /** VRAM the engine may use, in bytes (gpuBudgetBytes()); 0 or omitted: no GPU, everything in RAM. */
  vramBytes?: number;
}

/** Where the engine would put a pair's layers for a VRAM budget (llama.cpp's layer counts: blocks + output head). */
export interface GpuPlacement {
  vramBytes: number;
  draftLayers: number;
  draftLayerCount: number;
  targetLayers: number;
  targetLayerCount: number;
  /** What the chosen layers and both scratch buffers take on the GPU. */
  deviceBytes: number;
}

export interface PairSuggestion<M extends PairableModel = CatalogModel> {
  draft: M;
  target: M;
  draftMemory: ModelMemory;
  targetMemory: ModelMemory;
  /** Both models' memory together. */
  totalBytes: number;
  /** The part of totalBytes in RAM: all of it without a GPU, else less the layers placed on the GPU. */
  ramBytes: number;
  /** Null without a VRAM budget. */
  gpu: GpuPlacement | null;
  /** Whether ramBytes fits in PairingOptions.availableBytes and, with a GPU, the whole draft in its VRAM. */
  fits: boolean;
  /** The first pair of its tokenizer family that fits (the best target, then the best draft for it). */
  recommended: boolean;
  /** Why this pair may disappoint, one sentence each. */
  warnings: string[];
}

export interface TokenizerGroup<M extends PairableModel = CatalogModel> {
  fingerprint: string;
  vocabType: string;
  tokenCount: number;
  /** Largest first. */
  models: M[];
}

const DEFAULT_DRAFT_SHARE = 1 / 4;
const GIB = 1024 ** 3;

/** Models by tokenizer fingerprint: the models of a group all pair with each other as far as tokenizers go. */
export function groupByTokenizer<M extends PairableModel>(models: readonly M[]): TokenizerGroup<M>[] {
  const groups = new Map<string, TokenizerGroup<M>>();
  for (const m of models) {
    const { fingerprint, vocabType, tokenCount } = m.info.tokenizer;
    const group = groups.get(fingerprint) ?? { fingerprint, vocabType, tokenCount, models: [] };
    group.models.push(m);
    groups.set(fingerprint, group);
  }
  for (const g of groups.values()) g.models.sort((a, b) => b.info.parameters - a.info.parameters);
  return [...groups.values()];
}

/**
 * One pair per model that can be a target: the best draft for it (compatible, at most
 * maxDraftShare of its parameters, the smallest of the target's own kind). Best first: pairs that
 * fit, base before instruct targets, FIM before none, then the larger target.
 */
export function suggestPairs<M extends PairableModel>(models: readonly M[], options: PairingOptions): PairSuggestion<M>[] {
  const pairs: PairSuggestion<M>[] = [];
  for (const target of models) {
    const draft = bestDraft(models, target, options.maxDraftShare ?? DEFAULT_DRAFT_SHARE);
    if (draft) pairs.push(describePair(draft, target, options));
  }
  pairs.sort(byPreference);
  const recommendedFamilies = new Set<string>();
  for (const p of pairs) {
    const family = p.target.info.tokenizer.fingerprint;
    if (!p.fits || recommendedFamilies.has(family)) continue;
    p.recommended = true;
    recommendedFamilies.add(family);
  }
  return pairs;
}

function bestDraft<M extends PairableModel>(models: readonly M[], target: M, maxShare: number): M | undefined {
  const candidates = models.filter(
    (d) =>
      d !== target && d.info.parameters <= maxShare * target.info.parameters && vocabCompatible(d.info.tokenizer, target.info.tokenizer),
  );
  // a draft agrees most with a target of its own kind (base or instruct, same architecture); then the smallest is the fastest
  const rank = (d: M) => [
    Number(d.instruct !== target.instruct),
    Number(d.info.architecture !== target.info.architecture),
    d.info.parameters,
    d.info.sizeBytes,
  ];
  return candidates.sort((a, b) => compareLists(rank(a), rank(b)))[0];
}

function describePair<M extends PairableModel>(draft: M, target: M, options: PairingOptions): PairSuggestion<M> {
  const contextSize = options.contextSize ?? DEFAULTS.initialize.contextSize;
  const draftMemory = modelMemory(draft.info, contextSize, DRAFT_BATCH);
  const targetMemory = modelMemory(target.info, contextSize, targetBatch(options.maxBudget));
  const totalBytes = draftMemory.total + targetMemory.total;
  const gpu = options.vramBytes ? placeOnGpu(draft, target, contextSize, targetBatch(options.maxBudget), options.vramBytes) : null;
  const ramBytes = gpu ? totalBytes - gpu.deviceBytes + draftMemory.compute + targetMemory.compute : totalBytes;
  const draftOnGpu = !gpu || gpu.draftLayers === gpu.draftLayerCount;
  const fits = ramBytes <= options.availableBytes && draftOnGpu;
  const warnings: string[] = [];
  if (target.instruct)
    warnings.push('The target looks like an instruct/chat model: completion works best with a base model that has FIM tokens.');
  if (!target.info.tokenizer.fim)
    warnings.push('The target has no fill-in-the-middle tokens: it completes from the text before the cursor only.');
  if (ramBytes > options.availableBytes)
    warnings.push(`Needs ${gib(ramBytes)} GiB of RAM, ${gib(options.availableBytes)} GiB are free: try a smaller contextSize or target.`);
  if (!draftOnGpu)
    warnings.push(
      `Only ${gpu!.draftLayers} of the draft's ${gpu!.draftLayerCount} layers fit in ${gib(gpu!.vramBytes)} GiB of VRAM beside the target's scratch: a smaller draft or contextSize keeps it on the GPU.`,
    );
  return { draft, target, draftMemory, targetMemory, totalBytes, ramBytes, gpu, fits, recommended: false, warnings };
}

/** sx_offload_resolve for a VRAM budget: the engine's placement, from the two headers. */
function placeOnGpu(draft: PairableModel, target: PairableModel, contextSize: number, batch: number, vramBytes: number): GpuPlacement {
  const sizes = (m: PairableModel, b: number) => offloadSizes(m.info.tensorSizes, m.info.layout.heads, contextSize, b);
  const draftSizes = sizes(draft, DRAFT_BATCH);
  const targetSizes = sizes(target, batch);
  const choice = chooseOffload(draftSizes, targetSizes, vramBytes);
  return {
    vramBytes,
    draftLayers: choice.draftLayers,
    draftLayerCount: offloadLayerCount(draftSizes),
    targetLayers: choice.targetLayers,
    targetLayerCount: offloadLayerCount(targetSizes),
    deviceBytes: choice.draftBytes + choice.targetBytes,
  };
}

function byPreference(a: PairSuggestion<PairableModel>, b: PairSuggestion<PairableModel>): number {
  const rank = (p: PairSuggestion<PairableModel>) => [
    Number(!p.fits),
    Number(p.target.instruct),
    Number(!p.target.info.tokenizer.fim),
    -p.target.info.parameters,
    -p.target.info.sizeBytes,
    p.draft.info.parameters,
  ];
  return compareLists(rank(a), rank(b));
}

function compareLists(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function gib(bytes: number): string {
  return (bytes / GIB).toFixed(1);
}
