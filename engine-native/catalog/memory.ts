// The memory a model needs while the engine runs it, from its GGUF header alone: the weights (the
// file, mapped), the KV cache at the chosen context, and the compute buffers, estimated as the
// engine estimates them for its GPU placement (engine-native/src/offload.cpp).
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { DEFAULTS } from '../host/protocol';
import type { GgufModelInfo } from './model-info';

export interface ModelMemory {
  weights: number;
  kvCache: number;
  compute: number;
  total: number;
}

/** The engine keeps K and V in F32 (src/side.cpp): an F16 cache flips near-ties between tree and token passes. */
const KV_BYTES_PER_VALUE = 4;
const FLOAT_BYTES = 4;
/** engine-native/src/engine.cpp: prompts are decoded in batches of 512; the draft's batch is that too. */
const PROMPT_BATCH = 512;

/** The batch the engine sizes the target's buffers for: a whole draft tree, verified in one pass. */
export function targetBatch(maxBudget: number = DEFAULTS.initialize.maxBudget): number {
  return Math.max(PROMPT_BATCH, maxBudget + 1);
}

export const DRAFT_BATCH = PROMPT_BATCH;

/** K and V of every layer for `contextSize` tokens. */
export function kvCacheBytes(info: GgufModelInfo, contextSize: number): number {
  const { kvHeadsAllLayers, keyLength, valueLength } = info.layout;
  return KV_BYTES_PER_VALUE * contextSize * kvHeadsAllLayers * (keyLength + valueLength);
}

/**
 * offload.cpp's compute_estimate: without flash attention (off, for exactness) the largest
 * intermediate of a pass is the attention scores of every head, the logits or the feed-forward.
 */
export function computeBytes(info: GgufModelInfo, contextSize: number, batch: number): number {
  const { heads, feedForward, embedding } = info.layout;
  const widest = Math.max(info.tokenizer.tokenCount, Math.max(heads, 1) * contextSize, 2 * feedForward);
  return FLOAT_BYTES * batch * (widest + 4 * embedding);
}

export function modelMemory(info: GgufModelInfo, contextSize: number, batch: number): ModelMemory {
  const weights = info.sizeBytes;
  const kvCache = kvCacheBytes(info, contextSize);
  const compute = computeBytes(info, contextSize, batch);
  return { weights, kvCache, compute, total: weights + kvCache + compute };
}

/** RAM free for new work: Linux's MemAvailable (which counts the page cache it can drop), else os.freemem(). */
export async function availableMemoryBytes(): Promise<number> {
  if (process.platform === 'linux') {
    const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
    const kib = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
    if (kib) return Number(kib[1]) * 1024;
  }
  return os.freemem();
}
