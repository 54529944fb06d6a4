// The memory a model needs while the engine runs it, from its GGUF header alone: the weights (the
// file, mapped), the KV cache at the chosen context, and the compute buffers, estimated as the
// engine estimates them for its GPU placement; and that placement itself for a VRAM budget, as
// engine-native/src/offload.cpp chooses it (test/engine/catalog-pairing.test.ts compares the two).
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { DEFAULTS, type DeviceInfo } from '../host/protocol';
import type { GgufModelInfo, TensorSizes } from './model-info';

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

/** sx_offload_sizes: what one model puts on a GPU at a context and physical batch. */
export interface OffloadSizes {
  layerBytes: number[];
  outputBytes: number;
  kvLayerBytes: number;
  computeBytes: number;
}

export function offloadSizes(sizes: TensorSizes, heads: number, contextSize: number, batch: number): OffloadSizes {
  const widest = Math.max(sizes.vocab, Math.max(heads, 1) * contextSize, 2 * sizes.feedForward);
  return {
    layerBytes: sizes.layerBytes,
    outputBytes: sizes.outputBytes,
    kvLayerBytes: KV_BYTES_PER_VALUE * contextSize * sizes.kvValuesPerToken,
    computeBytes: FLOAT_BYTES * batch * (widest + 4 * sizes.embedding),
  };
}

/** llama.cpp's count of offloadable layers: the blocks and the output head. */
export function offloadLayerCount(s: OffloadSizes): number {
  return s.layerBytes.length + 1;
}

/** sx_offload_device_bytes: the top `layers` layers (negative: all) and the scratch, which always counts. */
export function deviceBytes(s: OffloadSizes, layers: number): number {
  const blocks = s.layerBytes.length;
  const k = layers < 0 ? blocks + 1 : Math.min(layers, blocks + 1);
  let bytes = s.computeBytes + (k > 0 ? s.outputBytes : 0);
  for (let il = Math.max(blocks + 1 - k, 0); il < blocks; il++) bytes += s.layerBytes[il] + s.kvLayerBytes;
  return bytes;
}

/** sx_offload_fit: the most layers that fit in `budget` bytes. */
export function fitLayers(s: OffloadSizes, budget: number): number {
  let k = 0;
  while (k < offloadLayerCount(s) && deviceBytes(s, k + 1) <= budget) k++;
  return k;
}

export interface OffloadChoice {
  draftLayers: number;
  targetLayers: number;
  draftBytes: number;
  targetBytes: number;
}

/** sx_offload_choose: the target's scratch first, then the whole draft, then as many target layers as still fit. */
export function chooseOffload(draft: OffloadSizes | null, target: OffloadSizes, budget: number): OffloadChoice {
  const draftLayers = draft ? fitLayers(draft, Math.max(budget - target.computeBytes, 0)) : 0;
  const draftBytes = draft ? deviceBytes(draft, draftLayers) : 0;
  const targetLayers = fitLayers(target, Math.max(budget - draftBytes, 0));
  return { draftLayers, targetLayers, draftBytes, targetBytes: deviceBytes(target, targetLayers) };
}

const MIB = 1024 ** 2;

/**
 * The VRAM a pairing plans for: vramBudgetMiB when set (the engine's own budget), else the free
 * memory of the largest GPU the engine build sees; 0 on a build or machine without a GPU.
 */
export function gpuBudgetBytes(devices: readonly DeviceInfo[], vramBudgetMiB = 0): number {
  const gpus = devices.filter((d) => d.type === 'gpu' || d.type === 'igpu');
  if (gpus.length === 0) return 0;
  return vramBudgetMiB > 0 ? vramBudgetMiB * MIB : Math.max(...gpus.map((d) => d.memoryFree));
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
