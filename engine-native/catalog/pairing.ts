// Draft/target pairs from the models on disk. A pair is offered only when the engine's own
// vocabulary check accepts it (fingerprint.ts: vocabCompatible), the draft is much smaller than the
// target, and the memory both need is known; "fits" compares it with the RAM the caller says is
// free. Base models with FIM tokens rank before instruct ones: completion wants fill-in-the-middle.
import { DEFAULTS } from '../host/protocol';
import { vocabCompatible } from './fingerprint';
import { DRAFT_BATCH, modelMemory, targetBatch, type ModelMemory } from './memory';
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
}

export interface PairSuggestion<M extends PairableModel = CatalogModel> {
  draft: M;
  target: M;
  draftMemory: ModelMemory;
  targetMemory: ModelMemory;
  /** Both models' memory together. */
  totalBytes: number;
  /** Whether totalBytes fits in PairingOptions.availableBytes. */
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
  const fits = totalBytes <= options.availableBytes;
  const warnings: string[] = [];
  if (target.instruct)
    warnings.push('The target looks like an instruct/chat model: completion works best with a base model that has FIM tokens.');
  if (!target.info.tokenizer.fim)
    warnings.push('The target has no fill-in-the-middle tokens: it completes from the text before the cursor only.');
  if (!fits)
    warnings.push(`Needs ${gib(totalBytes)} GiB of RAM, ${gib(options.availableBytes)} GiB are free: try a smaller contextSize or target.`);
  return { draft, target, draftMemory, targetMemory, totalBytes, fits, recommended: false, warnings };
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
