// Reads a GGUF file's header (v2/v3, little-endian): its metadata and tensor table, never the
// tensor data. A real model's header is a few MB (the token list and BPE merges), so the file is
// read from the start in a growing buffer until the header parses. Checks mirror the engine's
// (engine-native/src/gguf_check.cpp) and llama.cpp's gguf reader: what they refuse, this refuses,
// with the reason in GgufError's message.
import { open, type FileHandle } from 'node:fs/promises';

/** Why a file is not a GGUF model the engine can load; the message is the reason, without the path. */
export class GgufError extends Error {}

export type GgufValue = number | boolean | string | GgufValue[];

/** The token list as it lies in the file: each token is a u64 length and its bytes. */
export interface TokenTable {
  /** The array's bytes, from the first token's length field to the end of the last token. */
  readonly region: Buffer;
  /** offsets[i]: where token i starts in `region`; offsets[count]: the region's end. */
  readonly offsets: Uint32Array;
  readonly count: number;
}

export interface GgufTensorSummary {
  count: number;
  /** Elements of every tensor, as llama.cpp's llama_model_n_params counts them. */
  elements: number;
  /** Bytes from the start of the file to the end of the last tensor: a shorter file is truncated. */
  bytesNeeded: number;
  /** Tensors per ggml type name, of tensors with at least two dimensions (the quantised ones). */
  matrixTypes: Record<string, number>;
  /** Bytes of each repeating block's tensors (blk.N.*), by N: what a GPU layer holds. */
  layerBytes: number[];
  /** The shape and bytes of the tensors that size a GPU placement (SHAPED_TENSORS), where the file has them. */
  shaped: Record<string, { dims: number[]; bytes: number }>;
}

export interface GgufHeader {
  version: number;
  fileSize: number;
  /** Every metadata key; arrays longer than SMALL_ARRAY_MAX are left out, except the token list. */
  meta: Map<string, GgufValue>;
  tokens: TokenTable | null;
  tensors: GgufTensorSummary;
}

const MAGIC = 'GGUF';
const FIXED_HEADER_BYTES = 4 + 4 + 8 + 8;
const MAX_TENSORS = 1 << 20; // engine-native/src/gguf_check.cpp: far beyond any real model
const MAX_KV = 1 << 20;
const DEFAULT_ALIGNMENT = 32;
const TOKENS_KEY = 'tokenizer.ggml.tokens';
/** Longer arrays (merges, scores, token types) are skipped: nothing the catalogue shows needs them. */
const SMALL_ARRAY_MAX = 4096;
const FIRST_READ_BYTES = 1 << 20;
/** The largest header read (a real one is a few MB): a damaged length must not allocate gigabytes. */
const MAX_HEADER_BYTES = 512 << 20;
/** Each re-read parses the header again from the start: grow fast so a 10 MB header takes three. */
const GROWTH = 4;
const MAX_NAME = 64; // GGML_MAX_NAME
const MAX_DIMS = 4;
/** The tensors engine-native/src/offload.cpp reads by name to size a model's GPU placement. */
export const SHAPED_TENSORS = [
  'token_embd.weight',
  'output.weight',
  'output_norm.weight',
  'blk.0.ffn_up.weight',
  'blk.0.attn_k.weight',
  'blk.0.attn_v.weight',
] as const;
const LAYER_TENSOR = /^blk\.(\d+)\./;

// gguf.h's gguf_type ids
const ValueType = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 };

// the size of each fixed-size value, indexed by ValueType (STRING and ARRAY have none: 0), as gguf.cpp's GGUF_TYPE_SIZE
const SCALAR_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/** ggml's types by id (ggml.h): name, elements per block, bytes per block. */
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ['F32', 1, 4],
  1: ['F16', 1, 2],
  2: ['Q4_0', 32, 18],
  3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34],
  9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84],
  11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210],
  15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS', 256, 66],
  17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98],
  19: ['IQ1_S', 256, 50],
  20: ['IQ4_NL', 32, 18],
  21: ['IQ3_S', 256, 110],
  22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1],
  25: ['I16', 1, 2],
  26: ['I32', 1, 4],
  27: ['I64', 1, 8],
  28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56],
  30: ['BF16', 1, 2],
  34: ['TQ1_0', 256, 54],
  35: ['TQ2_0', 256, 66],
  39: ['MXFP4', 32, 17],
  40: ['NVFP4', 64, 36],
  41: ['Q1_0', 128, 18],
  42: ['Q2_0', 64, 18],
};

/** Thrown inside a parse when the buffer ends before the header does; the reader reads on. */
class NeedMoreBytes {
  constructor(readonly end: number) {}
}

const truncatedHeader = () => new GgufError('truncated GGUF file: its metadata runs past the end of the file (an interrupted download?)');
const corrupt = (what: string) => new GgufError(`corrupt GGUF metadata (${what}; truncated or damaged?)`);

/** Reads the header of a GGUF file. Throws GgufError for a file the engine would refuse. */
export async function readGgufHeader(file: string): Promise<GgufHeader> {
  const handle = await open(file, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    let buf = await readMore(handle, Buffer.alloc(0), Math.min(fileSize, FIRST_READ_BYTES));
    checkFixedHeader(buf, fileSize);
    for (;;) {
      try {
        return parseHeader(buf, fileSize);
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
        buf = await readMore(handle, buf, Math.min(fileSize, Math.max(e.end, GROWTH * buf.length)));
      }
    }
  } finally {
    await handle.close();
  }
}

/** `buf` grown to `length` bytes of the file: only the bytes it lacks are read. */
async function readMore(handle: FileHandle, buf: Buffer, length: number): Promise<Buffer> {
  const grown = Buffer.allocUnsafe(length);
  buf.copy(grown);
  let at = buf.length;
  while (at < length) {
    const { bytesRead } = await handle.read(grown, at, length - at, at);
    if (bytesRead === 0) throw truncatedHeader(); // the file shrank under us
    at += bytesRead;
  }
  return grown;
}

/** The engine's first checks, with its words: size, magic, version, counts. */
function checkFixedHeader(head: Buffer, fileSize: number): void {
  if (fileSize < FIXED_HEADER_BYTES) throw new GgufError(`empty or truncated (${fileSize} bytes), not a GGUF model`);
  if (head.toString('latin1', 0, 4) !== MAGIC) {
    throw new GgufError("not a GGUF model file (wrong magic bytes). Convert the model to GGUF with llama.cpp's convert_hf_to_gguf.py");
  }
  const version = head.readUInt32LE(4);
  if (version < 2 || version > 3) {
    const endian = (version & 0xffff) === 0 ? ' (a big-endian file? only little-endian GGUF is supported)' : '';
    throw new GgufError(`unsupported GGUF version ${version}${endian}`);
  }
  const tensors = Number(head.readBigUInt64LE(8));
  const kv = Number(head.readBigUInt64LE(16));
  if (tensors > MAX_TENSORS || kv > MAX_KV) throw new GgufError(`corrupt GGUF header (${tensors} tensors, ${kv} metadata keys)`);
}

function parseHeader(buf: Buffer, fileSize: number): GgufHeader {
  const c = new Cursor(buf, fileSize);
  c.skip(4);
  const version = c.u32();
  const tensorCount = c.count();
  const kvCount = c.count();
  const meta = new Map<string, GgufValue>();
  let tokens: TokenTable | null = null;
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    if (key === '' || meta.has(key)) throw corrupt(key === '' ? `key ${i} is empty` : `duplicate key ${key}`);
    const type = c.u32();
    if (key === TOKENS_KEY && type === ValueType.ARRAY) tokens = readTokenTable(c);
    else {
      const value = readValue(c, type, key);
      if (value !== undefined) meta.set(key, value);
    }
  }
  const alignment = meta.get('general.alignment') ?? DEFAULT_ALIGNMENT;
  if (typeof alignment !== 'number' || alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw corrupt(`alignment ${alignment}`);
  return { version, fileSize, meta, tokens, tensors: readTensorTable(c, tensorCount, alignment) };
}

/** A value of the given type; undefined for an array too long to keep (it is skipped). */
function readValue(c: Cursor, type: number, key: string): GgufValue | undefined {
  if (type !== ValueType.ARRAY) return readScalar(c, type, key);
  const elementType = c.u32();
  const n = c.count();
  if (elementType === ValueType.ARRAY) throw corrupt(`key ${key} is an array of arrays`);
  if (n > SMALL_ARRAY_MAX) {
    skipArray(c, elementType, n, key);
    return undefined;
  }
  const out: GgufValue[] = [];
  for (let i = 0; i < n; i++) out.push(readScalar(c, elementType, key));
  return out;
}

function readScalar(c: Cursor, type: number, key: string): number | boolean | string {
  switch (type) {
    case ValueType.U8:
      return c.take(1).readUInt8(0);
    case ValueType.I8:
      return c.take(1).readInt8(0);
    case ValueType.U16:
      return c.take(2).readUInt16LE(0);
    case ValueType.I16:
      return c.take(2).readInt16LE(0);
    case ValueType.U32:
      return c.u32();
    case ValueType.I32:
      return c.take(4).readInt32LE(0);
    case ValueType.F32:
      return c.take(4).readFloatLE(0);
    case ValueType.BOOL:
      return c.take(1).readUInt8(0) !== 0;
    case ValueType.STRING:
      return c.string();
    case ValueType.U64:
      return Number(c.take(8).readBigUInt64LE(0));
    case ValueType.I64:
      return Number(c.take(8).readBigInt64LE(0));
    case ValueType.F64:
      return c.take(8).readDoubleLE(0);
    default:
      throw corrupt(`key ${key} has invalid type ${type}`);
  }
}

function skipArray(c: Cursor, elementType: number, n: number, key: string): void {
  if (elementType === ValueType.STRING) {
    c.skipStrings(n);
    return;
  }
  const size = SCALAR_BYTES[elementType] ?? 0;
  if (size === 0) throw corrupt(`key ${key} has invalid element type ${elementType}`);
  c.skip(n * size);
}

function readTokenTable(c: Cursor): TokenTable {
  if (c.u32() !== ValueType.STRING) throw corrupt(`${TOKENS_KEY} is not an array of strings`);
  const count = c.count();
  const start = c.pos;
  const offsets = new Uint32Array(count + 1);
  c.skipStrings(count, offsets);
  offsets[count] = c.pos - start;
  return { region: c.bytes(start, c.pos), offsets, count };
}

function readTensorTable(c: Cursor, count: number, alignment: number): GgufTensorSummary {
  const summary: GgufTensorSummary = { count, elements: 0, bytesNeeded: 0, matrixTypes: {}, layerBytes: [], shaped: {} };
  const names = new Set<string>();
  let dataEnd = 0;
  for (let i = 0; i < count; i++) {
    const name = c.string();
    if (name.length >= MAX_NAME || names.has(name)) throw corrupt(`tensor name ${name.slice(0, MAX_NAME)}`);
    names.add(name);
    const dims = readDims(c, name);
    const typeId = c.u32();
    const type = GGML_TYPES[typeId];
    if (!type) throw corrupt(`tensor ${name} has unknown ggml type ${typeId}`);
    const [typeName, block, blockBytes] = type;
    if (dims[0] % block !== 0) throw corrupt(`tensor ${name} rows of ${dims[0]} are not whole ${typeName} blocks`);
    const elements = dims.reduce((a, b) => a * b, 1);
    const offset = Number(c.take(8).readBigUInt64LE(0));
    const bytes = (elements / block) * blockBytes;
    dataEnd = Math.max(dataEnd, offset + bytes);
    summary.elements += elements;
    if (dims.length >= 2) summary.matrixTypes[typeName] = (summary.matrixTypes[typeName] ?? 0) + 1;
    addPlacementSizes(summary, name, dims, bytes);
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  summary.bytesNeeded = count > 0 ? dataStart + dataEnd : c.pos;
  return summary;
}

function addPlacementSizes(summary: GgufTensorSummary, name: string, dims: number[], bytes: number): void {
  const layer = LAYER_TENSOR.exec(name);
  if (layer) {
    const il = Number(layer[1]);
    if (il >= MAX_TENSORS) throw corrupt(`tensor ${name} names block ${il}`);
    while (summary.layerBytes.length <= il) summary.layerBytes.push(0);
    summary.layerBytes[il] += bytes;
  }
  if ((SHAPED_TENSORS as readonly string[]).includes(name)) summary.shaped[name] = { dims, bytes };
}

function readDims(c: Cursor, name: string): number[] {
  const n = c.u32();
  if (n > MAX_DIMS) throw corrupt(`tensor ${name} has ${n} dimensions`);
  const dims: number[] = [];
  for (let j = 0; j < n; j++) {
    const d = c.take(8).readBigInt64LE(0);
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`tensor ${name} has a dimension of ${d}`);
    dims.push(Number(d));
  }
  if (dims.reduce((a, b) => a * b, 1) > Number.MAX_SAFE_INTEGER) throw corrupt(`tensor ${name} is too large`);
  return dims.length > 0 ? dims : [1];
}

/** Sequential reads from the header buffer; asks for more of the file when it runs out. */
class Cursor {
  pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly fileSize: number,
  ) {}

  /** Where the next n bytes start; they are in the buffer. */
  private advance(n: number): number {
    const at = this.pos;
    const end = at + n;
    if (end > this.buf.length) this.outOfBytes(end);
    this.pos = end;
    return at;
  }

  private outOfBytes(end: number): never {
    if (end > MAX_HEADER_BYTES) throw corrupt(`metadata larger than ${MAX_HEADER_BYTES >> 20} MiB`);
    throw end > this.fileSize ? truncatedHeader() : new NeedMoreBytes(end);
  }

  private checkLength(n: number): void {
    if (n > Math.min(this.fileSize, MAX_HEADER_BYTES)) throw corrupt(`a length of ${n} in a file of ${this.fileSize} bytes`);
  }

  take(n: number): Buffer {
    const at = this.advance(n);
    return this.buf.subarray(at, at + n);
  }

  skip(n: number): void {
    this.advance(n);
  }

  bytes(start: number, end: number): Buffer {
    return this.buf.subarray(start, end);
  }

  u32(): number {
    return this.buf.readUInt32LE(this.advance(4));
  }

  /** A u64 length or count; one larger than the file cannot be real. */
  count(): number {
    const at = this.advance(8);
    const n = this.buf.readUInt32LE(at + 4) * 2 ** 32 + this.buf.readUInt32LE(at);
    this.checkLength(n);
    return n;
  }

  /**
   * Skips n strings, noting in `offsets` where each starts relative to the first. The hot loop of
   * a header (token lists and merges of 150k+ strings): it reads the buffer directly and leaves
   * the loop for anything unusual, which the general code then reports.
   */
  skipStrings(n: number, offsets?: Uint32Array): void {
    const { buf } = this;
    const end = buf.length;
    const longest = Math.min(this.fileSize, MAX_HEADER_BYTES);
    const start = this.pos;
    let pos = start;
    let i = 0;
    for (; i < n; i++) {
      if (offsets !== undefined) offsets[i] = pos - start;
      if (pos + 8 > end) break;
      // byte by byte: several times faster than readUInt32LE here
      const length = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
      if (length > longest || (buf[pos + 4] | buf[pos + 5] | buf[pos + 6] | buf[pos + 7]) !== 0 || pos + 8 + length > end) break;
      pos += 8 + length;
    }
    this.pos = pos;
    if (i < n) this.skip(this.count()); // the string that did not fit: throws why (more bytes needed, truncated, corrupt)
  }

  string(): string {
    const n = this.count();
    const at = this.advance(n);
    return this.buf.toString('utf8', at, at + n);
  }
}
