// What the model catalogue knows about one GGUF model, from its header alone: what it is, how big,
// how it is quantised, the shape that sizes its KV cache, and its tokenizer. JSON-serialisable:
// the scan cache stores it as is.
import * as path from 'node:path';
import { GgufError, readGgufHeader, type GgufHeader, type GgufValue } from './gguf-header';
import { readTokenizer, type Tokenizer } from './fingerprint';

/** The shape the KV cache and compute buffers are sized by (0 where the file does not say). */
export interface ModelLayout {
  layers: number;
  heads: number;
  /** KV heads summed over the layers: the cache holds this many K and V heads per token. */
  kvHeadsAllLayers: number;
  embedding: number;
  keyLength: number;
  valueLength: number;
  feedForward: number;
}

/**
 * What sizes a model's GPU placement, from its tensor table: the numbers engine-native/src/offload.cpp
 * reads (sx_offload_read), so that memory.ts's placement is the engine's.
 */
export interface TensorSizes {
  /** Bytes of each repeating block (blk.N.*), by N. */
  layerBytes: number[];
  /** The output head and final norm; with tied embeddings llama.cpp puts a copy of token_embd there. */
  outputBytes: number;
  /** Rows of blk.0's K and V projections: the K and V values one token keeps per layer. */
  kvValuesPerToken: number;
  /** token_embd's width and rows, blk.0's feed-forward width: what sizes a pass's scratch. */
  embedding: number;
  vocab: number;
  feedForward: number;
}

export interface GgufModelInfo {
  architecture: string;
  /** general.name, .basename, .finetune (e.g. "Instruct"), .size_label (e.g. "7B"); null when absent. */
  name: string | null;
  basename: string | null;
  finetune: string | null;
  sizeLabel: string | null;
  /** Weights, as llama.cpp counts them (general.parameter_count, else every tensor's elements). */
  parameters: number;
  /** The model's bytes on disk, every shard of a split model. */
  sizeBytes: number;
  /** llama.cpp's quantisation name (Q8_0, Q4_K_M, F16...), "(guessed)" when the file has no general.file_type. */
  quantization: string;
  /** The context length the model was trained for; null when the file does not say. */
  trainedContext: number | null;
  layout: ModelLayout;
  tensorSizes: TensorSizes;
  /** How many files hold the tensors: above 1 for the first shard of a split model. */
  splitCount: number;
  chatTemplate: boolean;
  tokenizer: Tokenizer;
}

/** llama_ftype (llama.h) by the names llama-quantize and file names use. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
  39: 'NVFP4',
  40: 'Q1_0',
  41: 'Q2_0',
};
const FILE_TYPE_GUESSED = 1024; // LLAMA_FTYPE_GUESSED
/** general.type values of GGUFs that are not language models, in words. */
const NOT_A_MODEL: Record<string, string> = { mmproj: 'a vision projector (mmproj)', adapter: 'a LoRA adapter' };
/** llama.cpp's split file names (llama_split_path): NAME-00001-of-00003.gguf. */
const SPLIT_SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** Which shard of a split model a file name says it is (1 = the first); 0 for an unsplit name. */
export function splitShardNumber(file: string): number {
  const shard = SPLIT_SHARD.exec(file);
  return shard ? Number(shard[1]) : 0;
}

/**
 * Reads a GGUF model's header. Throws GgufError, whose message is the reason, for a file the engine
 * would not load as a model: not GGUF, truncated, corrupt, vocabulary only, a projector or adapter.
 */
export async function readModelInfo(file: string): Promise<GgufModelInfo> {
  const header = await readGgufHeader(file);
  checkLoadable(header);
  const meta = (key: string) => header.meta.get(key);
  const architecture = stringOf(meta('general.architecture'));
  if (!architecture) throw new GgufError('no general.architecture: not a model llama.cpp can load');
  const parameterCount = meta('general.parameter_count');
  const shards = await readOtherShards(file, Math.max(1, numberOf(meta('split.count'))));
  const elements = shards.reduce((sum, h) => sum + h.tensors.elements, header.tensors.elements);
  return {
    architecture,
    name: stringOf(meta('general.name')),
    basename: stringOf(meta('general.basename')),
    finetune: stringOf(meta('general.finetune')),
    sizeLabel: stringOf(meta('general.size_label')),
    parameters: typeof parameterCount === 'number' && parameterCount > 0 ? parameterCount : elements,
    sizeBytes: shards.reduce((sum, h) => sum + h.fileSize, header.fileSize),
    quantization: quantizationOf(header),
    trainedContext: numberOf(meta(`${architecture}.context_length`)) || null,
    layout: layoutOf(header, architecture),
    tensorSizes: tensorSizesOf([header, ...shards]),
    splitCount: shards.length + 1,
    chatTemplate: typeof meta('tokenizer.chat_template') === 'string',
    tokenizer: readTokenizer(header),
  };
}

function checkLoadable(header: GgufHeader): void {
  const type = stringOf(header.meta.get('general.type'));
  if (type && NOT_A_MODEL[type]) throw new GgufError(`${NOT_A_MODEL[type]}, not a language model`);
  if (header.meta.get('general.architecture') === 'clip') throw new GgufError(`${NOT_A_MODEL.mmproj}, not a language model`);
  if (header.tensors.count === 0) throw new GgufError('the file holds a vocabulary only, no weights');
  checkComplete(header, 'truncated GGUF file');
}

function checkComplete(header: GgufHeader, what: string): void {
  if (header.tensors.bytesNeeded > header.fileSize) {
    throw new GgufError(
      `${what}: its tensors need ${header.tensors.bytesNeeded} bytes but the file has ${header.fileSize} (an interrupted download?)`,
    );
  }
}

/** The headers of shards 2..count of a split model whose first shard is `file`: llama.cpp loads them all. */
async function readOtherShards(file: string, count: number): Promise<GgufHeader[]> {
  if (count === 1) return [];
  if (splitShardNumber(file) !== 1)
    throw new GgufError(`the first of ${count} split files, but not named NAME-00001-of-${pad5(count)}.gguf`);
  const stem = file.slice(0, SPLIT_SHARD.exec(file)!.index);
  const shards: GgufHeader[] = [];
  for (let i = 2; i <= count; i++) {
    const shard = `${stem}-${pad5(i)}-of-${pad5(count)}.gguf`;
    const header = await readGgufHeader(shard).catch((e: unknown) => {
      throw shardError(shard, e);
    });
    checkComplete(header, `split model: ${path.basename(shard)} is truncated`);
    shards.push(header);
  }
  return shards;
}

function shardError(shard: string, e: unknown): unknown {
  const name = path.basename(shard);
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new GgufError(`split model: ${name} is missing`);
  return e instanceof GgufError ? new GgufError(`split model: ${name}: ${e.message}`) : e;
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

function quantizationOf(header: GgufHeader): string {
  const fileType = header.meta.get('general.file_type');
  if (typeof fileType === 'number') {
    const name = FILE_TYPES[fileType & ~FILE_TYPE_GUESSED];
    if (name) return fileType & FILE_TYPE_GUESSED ? `${name} (guessed)` : name;
  }
  // llama.cpp guesses from the tensors, too: the most common type of the weight matrices
  const types = Object.entries(header.tensors.matrixTypes).sort((a, b) => b[1] - a[1]);
  return types.length > 0 ? `${types[0][0]} (guessed)` : 'unknown';
}

function layoutOf(header: GgufHeader, arch: string): ModelLayout {
  const meta = (key: string) => header.meta.get(`${arch}.${key}`);
  const layers = numberOf(meta('block_count'));
  const heads = numberOf(meta('attention.head_count'));
  const embedding = numberOf(meta('embedding_length'));
  const headSize = heads > 0 ? Math.floor(embedding / heads) : 0;
  const kvHeads = meta('attention.head_count_kv') ?? meta('attention.head_count');
  return {
    layers,
    heads,
    kvHeadsAllLayers: Array.isArray(kvHeads) ? kvHeads.reduce<number>((sum, h) => sum + numberOf(h), 0) : numberOf(kvHeads) * layers,
    embedding,
    keyLength: numberOf(meta('attention.key_length')) || headSize,
    valueLength: numberOf(meta('attention.value_length')) || headSize,
    feedForward: numberOf(meta('feed_forward_length')),
  };
}

/** Over every shard of a split model: a tensor lives in one shard, blocks may straddle two. */
function tensorSizesOf(headers: GgufHeader[]): TensorSizes {
  const shaped = Object.assign({}, ...headers.map((h) => h.tensors.shaped)) as GgufHeader['tensors']['shaped'];
  const dim = (name: string, i: number) => shaped[name]?.dims[i] ?? (shaped[name] ? 1 : 0);
  const bytes = (name: string) => shaped[name]?.bytes ?? 0;
  const layerBytes: number[] = [];
  for (const h of headers) h.tensors.layerBytes.forEach((b, i) => (layerBytes[i] = (layerBytes[i] ?? 0) + b));
  return {
    layerBytes: Array.from(layerBytes, (b) => b ?? 0),
    outputBytes: (bytes('output.weight') || bytes('token_embd.weight')) + bytes('output_norm.weight'),
    kvValuesPerToken: dim('blk.0.attn_k.weight', 1) + dim('blk.0.attn_v.weight', 1),
    embedding: dim('token_embd.weight', 0),
    vocab: dim('token_embd.weight', 1),
    feedForward: dim('blk.0.ffn_up.weight', 1),
  };
}

/** A number, or the largest of an array of them (per-layer values); 0 otherwise. */
function numberOf(v: GgufValue | undefined): number {
  if (typeof v === 'number') return v;
  return Array.isArray(v) ? Math.max(0, ...v.map(numberOf)) : 0;
}

function stringOf(v: GgufValue | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
