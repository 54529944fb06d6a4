// A model's tokenizer as llama.cpp loads it (src/llama-vocab.cpp: the vocabulary type, the BOS/EOS
// ids with their per-type defaults, add_bos, the FIM tokens by id or by text), and the engine's
// rule for whether a draft may pair with a target (engine-native/src/model.cpp,
// sx_check_vocab_compatible): same vocabulary type, sizes within 128, same BOS/EOS and add_bos,
// the same text for every token from id 5 on. Token texts are compared through hashes, so a
// catalogue of hundreds of models keeps a few KB per model instead of its token list.
import { createHash, type Hash } from 'node:crypto';
import { GgufError, type GgufHeader, type GgufValue, type TokenTable } from './gguf-header';
import type { FimTokens } from '../host/protocol';

/** llama.cpp's speculative examples allow this much difference in vocabulary size (model.cpp). */
export const VOCAB_MAX_SIZE_DIFF = 128;
/** The engine compares token texts from this id on (model.cpp). */
export const VOCAB_CHECK_START_ID = 5;

export interface Tokenizer {
  /** tokenizer.ggml.model and tokenizer.ggml.pre, as written in the file. */
  model: string;
  pre: string | null;
  /** llama.cpp's vocabulary type: spm, bpe, wpm, ugm, rwkv, plamo2 or test. */
  vocabType: string;
  tokenCount: number;
  bos: number | null;
  eos: number | null;
  addBos: boolean;
  /** The fill-in-the-middle tokens the engine builds FIM prompts from; null: plain prompts only. */
  fim: FimTokens | null;
  /** Repository-level FIM tokens (a repo name and file separators, as Qwen2.5-Coder has). */
  repoFim: boolean;
  /** Equal for tokenizers the engine cannot tell apart: what it compares, hashed. */
  fingerprint: string;
  /**
   * prefixHashes[j] hashes the texts of tokens VOCAB_CHECK_START_ID .. tokenCount - j - 1, for j up
   * to VOCAB_MAX_SIZE_DIFF: two models within that size difference compare the hashes at the
   * smaller size, which is what the engine compares token by token.
   */
  prefixHashes: string[];
}

interface VocabDefaults {
  type: string;
  bos: number | null;
  eos: number | null;
  addBos: boolean;
}

const BPE: VocabDefaults = { type: 'bpe', bos: 11, eos: 11, addBos: false };
/** Per tokenizer.ggml.model: the type and default special tokens llama.cpp assumes. */
const VOCAB_DEFAULTS: Record<string, VocabDefaults> = {
  llama: { type: 'spm', bos: 1, eos: 2, addBos: true },
  bert: { type: 'wpm', bos: 101, eos: null, addBos: true },
  gpt2: BPE,
  hybriddna: BPE,
  whitespace: BPE,
  gemma4: { type: 'bpe', bos: null, eos: null, addBos: false },
  t5: { type: 'ugm', bos: null, eos: 1, addBos: false },
  rwkv: { type: 'rwkv', bos: null, eos: null, addBos: false },
  plamo2: { type: 'plamo2', bos: 1, eos: 2, addBos: false },
  test: { type: 'test', bos: null, eos: null, addBos: false },
};
const NO_VOCAB = new Set(['no_vocab', 'none']);
/** BPE pre-tokenizers after which llama.cpp adds BOS unless the file says otherwise. */
const PRE_ADDS_BOS = new Set([
  'llama3',
  'llama-v3',
  'llama-bpe',
  'falcon3',
  'falcon-h1',
  'pixtral',
  'midm-2.0',
  'lfm2',
  'jina-v5-nano',
  'tekken',
  'chameleon',
]);
const PRE_WITHOUT_BOS = new Set(['glm4', 'chatglm-bpe']);
/** Gemma 4's pre-tokenizers: llama.cpp forces add_bos on whatever the file says. */
const PRE_FORCES_BOS = new Set(['gemma4', 'granite-embed-multi-311m']);

const KEY = (name: string) => `tokenizer.ggml.${name}`;
/** Special-token keys, the deprecated spelling last: llama.cpp reads it last, so it wins. */
const FIM_KEYS = {
  prefix: ['fim_pre_token_id', 'prefix_token_id'],
  suffix: ['fim_suf_token_id', 'suffix_token_id'],
  middle: ['fim_mid_token_id', 'middle_token_id'],
  repo: ['fim_rep_token_id'],
  fileSep: ['fim_sep_token_id'],
};
type FimRole = keyof typeof FIM_KEYS;
/** Token texts llama.cpp takes for a FIM token the metadata does not name (llama-vocab.cpp). */
const FIM_TEXTS: Record<FimRole, string[]> = {
  prefix: ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>'],
  suffix: ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>'],
  middle: ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>'],
  repo: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'],
  fileSep: ['<|file_sep|>'],
};
const LENGTH_FIELD_BYTES = 8;
const HASH_BYTES = 16;

/** The tokenizer of a GGUF header, resolved as llama.cpp resolves it. Throws GgufError when llama.cpp could not load it. */
export function readTokenizer(header: GgufHeader): Tokenizer {
  const model = header.meta.get(KEY('model'));
  if (typeof model !== 'string') throw new GgufError('no tokenizer (tokenizer.ggml.model is missing)');
  if (NO_VOCAB.has(model)) throw new GgufError('no tokenizer (tokenizer.ggml.model is "no_vocab"): the engine cannot tokenize text for it');
  const defaults = VOCAB_DEFAULTS[model];
  if (!defaults) throw new GgufError(`unknown tokenizer '${model}': the pinned llama.cpp cannot load it`);
  if (!header.tokens) throw new GgufError('the tokenizer has no token list (tokenizer.ggml.tokens)');
  const table = header.tokens;
  const pre = stringMeta(header, KEY('pre'));
  const special = specialTokens(header, table.count, defaults, model === 'gemma4' ? 'gemma4' : pre);
  const fim = fimTokens(header, table);
  const prefixHashes = tokenPrefixHashes(table);
  const fingerprint = digestOf(createHash('sha256').update(JSON.stringify([defaults.type, special, prefixHashes[0]])));
  return {
    model,
    pre,
    vocabType: defaults.type,
    tokenCount: table.count,
    ...special,
    fim:
      fim.prefix !== null && fim.suffix !== null && fim.middle !== null
        ? { prefix: fim.prefix, suffix: fim.suffix, middle: fim.middle, repo: fim.repo, fileSeparator: fim.fileSep }
        : null,
    repoFim: fim.repo !== null && fim.fileSep !== null,
    fingerprint,
    prefixHashes,
  };
}

/** Why the engine would refuse this draft with this target (its wording), or null when it accepts the pair. */
export function vocabMismatch(draft: Tokenizer, target: Tokenizer): string | null {
  if (draft.vocabType !== target.vocabType) return `vocabulary type ${draft.vocabType} vs ${target.vocabType}`;
  if (Math.abs(draft.tokenCount - target.tokenCount) > VOCAB_MAX_SIZE_DIFF)
    return `vocabulary size ${draft.tokenCount} vs ${target.tokenCount}`;
  if (draft.addBos !== target.addBos || draft.bos !== target.bos || draft.eos !== target.eos) return 'BOS/EOS tokens';
  const n = Math.min(draft.tokenCount, target.tokenCount);
  if (draft.prefixHashes[draft.tokenCount - n] !== target.prefixHashes[target.tokenCount - n]) {
    return `token texts differ between ids ${VOCAB_CHECK_START_ID} and ${n - 1}`;
  }
  return null;
}

/** Whether the engine accepts this draft with this target (sx_check_vocab_compatible). */
export function vocabCompatible(draft: Tokenizer, target: Tokenizer): boolean {
  return vocabMismatch(draft, target) === null;
}

function stringMeta(header: GgufHeader, key: string): string | null {
  const v = header.meta.get(key);
  return typeof v === 'string' ? v : null;
}

/** A token id from the metadata when it names a token of the vocabulary; llama.cpp ignores others. */
function tokenIdMeta(header: GgufHeader, key: string, tokenCount: number): number | null {
  const v: GgufValue | undefined = header.meta.get(key);
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < tokenCount ? v : null;
}

function specialTokens(
  header: GgufHeader,
  tokenCount: number,
  defaults: VocabDefaults,
  pre: string | null,
): Pick<Tokenizer, 'bos' | 'eos' | 'addBos'> {
  const bpe = defaults.type === 'bpe';
  const inVocab = (id: number | null) => (id !== null && id < tokenCount ? id : null);
  const bos = inVocab(bpe && pre !== null && PRE_WITHOUT_BOS.has(pre) ? null : defaults.bos);
  const addBosMeta = header.meta.get(KEY('add_bos_token'));
  const addBosDefault = defaults.addBos || (bpe && pre !== null && PRE_ADDS_BOS.has(pre));
  return {
    bos: tokenIdMeta(header, KEY('bos_token_id'), tokenCount) ?? bos,
    eos: tokenIdMeta(header, KEY('eos_token_id'), tokenCount) ?? inVocab(defaults.eos),
    addBos: (bpe && pre !== null && PRE_FORCES_BOS.has(pre)) || (typeof addBosMeta === 'boolean' ? addBosMeta : addBosDefault),
  };
}

/** Each FIM role's token: from the metadata, else the lowest id whose text llama.cpp recognises. */
function fimTokens(header: GgufHeader, table: TokenTable): Record<FimRole, number | null> {
  const roles = Object.keys(FIM_KEYS) as FimRole[];
  const ids = {} as Record<FimRole, number | null>;
  for (const role of roles)
    ids[role] = FIM_KEYS[role].reduce<number | null>((id, key) => tokenIdMeta(header, KEY(key), table.count) ?? id, null);
  const byText = new Map<string, FimRole>();
  for (const role of roles) if (ids[role] === null) for (const text of FIM_TEXTS[role]) byText.set(text, role);
  if (byText.size === 0) return ids;
  // a cheap filter before decoding: the texts' first bytes and lengths
  const texts = [...byText.keys()].map((t) => Buffer.from(t));
  const firstByte = new Uint8Array(256);
  const length = new Uint8Array(Math.max(...texts.map((t) => t.length)) + 1);
  for (const t of texts) [firstByte[t[0]], length[t.length]] = [1, 1];
  const { region, offsets } = table;
  for (let i = 0; i < table.count; i++) {
    const start = offsets[i] + LENGTH_FIELD_BYTES;
    if (firstByte[region[start]] !== 1 || length[offsets[i + 1] - start] !== 1) continue;
    const role = byText.get(region.toString('utf8', start, offsets[i + 1]));
    if (role !== undefined && ids[role] === null) ids[role] = i;
  }
  return ids;
}

/** See Tokenizer.prefixHashes: one running hash, read at each of the last sizes. */
function tokenPrefixHashes(table: TokenTable): string[] {
  const first = Math.max(VOCAB_CHECK_START_ID, table.count - VOCAB_MAX_SIZE_DIFF);
  const hash = createHash('sha256');
  hashTokens(hash, table, VOCAB_CHECK_START_ID, first);
  const byEnd = [digestOf(hash.copy())];
  for (let end = first; end < table.count; end++) {
    hash.update(tokenBytes(table, end));
    byEnd.push(digestOf(hash.copy()));
  }
  const n = Math.min(VOCAB_MAX_SIZE_DIFF, table.count) + 1;
  return Array.from({ length: n }, (_, j) => byEnd[Math.max(table.count - j, first) - first]);
}

/** Hashes tokens from..to-1 as the file encodes them: runs of plain tokens at once, empty ones renamed. */
function hashTokens(hash: Hash, table: TokenTable, from: number, to: number): void {
  if (from >= to) return;
  const { region, offsets } = table;
  let start = offsets[from];
  for (let i = from; i < to; i++) {
    if (offsets[i + 1] - offsets[i] !== LENGTH_FIELD_BYTES) continue;
    hash.update(region.subarray(start, offsets[i]));
    hash.update(tokenBytes(table, i));
    start = offsets[i + 1];
  }
  hash.update(region.subarray(start, offsets[to]));
}

/** One token as the file encodes it (length, bytes); an empty one as llama.cpp renames it, "[EMPTY_<id>]". */
function tokenBytes(table: TokenTable, i: number): Buffer {
  const { region, offsets } = table;
  return offsets[i + 1] - offsets[i] === LENGTH_FIELD_BYTES ? encodeToken(`[EMPTY_${i}]`) : region.subarray(offsets[i], offsets[i + 1]);
}

function encodeToken(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(LENGTH_FIELD_BYTES);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes]);
}

function digestOf(hash: Hash): string {
  return hash.digest().subarray(0, HASH_BYTES).toString('base64url');
}
