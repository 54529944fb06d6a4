// Validation of request parameters: every bad value becomes an InvalidParams error that names
// the field, before anything reaches the native engine.
import { ResponseError } from 'vscode-jsonrpc/node';
import type { NativeRequest } from './native';
import {
  DECODING_MODES,
  DEFAULTS,
  ErrorCodes,
  type ChatMessage,
  type DecodingMode,
  type FimPrompt,
  type InitializeParams,
  type SamplingParams,
} from './protocol';

const MAX_TOKENS_LIMIT = 1 << 16;
const MAX_ALTERNATIVES = 8;
const MAX_FORCED_TOKENS = 1024;
const MAX_EXTRA_CHUNKS = 64;
const MAX_STOP_STRINGS = 16;
const MAX_CONTEXT = 1 << 20;
const MAX_BUDGET = 4096;
const MAX_VRAM_MIB = 1 << 24; // 16 TiB

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalNumber(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number, integer = true): number {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw invalid(`${key} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

export function parseInitializeParams(p: unknown): InitializeParams {
  if (!isObject(p)) throw invalid('initialize expects an object of parameters');
  const targetModelPath = optionalString(p, 'targetModelPath');
  if (!targetModelPath) throw invalid('targetModelPath is required');
  return {
    targetModelPath,
    draftModelPath: optionalString(p, 'draftModelPath') || null,
    threads: optionalNumber(p, 'threads', DEFAULTS.initialize.threads, 0, 256),
    contextSize: optionalNumber(p, 'contextSize', DEFAULTS.initialize.contextSize, 64, MAX_CONTEXT),
    draftGpuLayers: optionalNumber(p, 'draftGpuLayers', DEFAULTS.initialize.draftGpuLayers, -1, 1000),
    targetGpuLayers: optionalNumber(p, 'targetGpuLayers', DEFAULTS.initialize.targetGpuLayers, -1, 1000),
    vramBudgetMiB: optionalNumber(p, 'vramBudgetMiB', DEFAULTS.initialize.vramBudgetMiB, 0, MAX_VRAM_MIB),
    maxBudget: optionalNumber(p, 'maxBudget', DEFAULTS.initialize.maxBudget, 1, MAX_BUDGET),
  };
}

export function parseSampling(p: Record<string, unknown>, defaultMode: DecodingMode): Omit<NativeRequest, 'prompt'> {
  const stop = p.stop ?? [];
  if (!Array.isArray(stop) || stop.length > MAX_STOP_STRINGS || !stop.every((s) => typeof s === 'string')) {
    throw invalid(`stop must be an array of at most ${MAX_STOP_STRINGS} strings`);
  }
  const mode = p.mode ?? defaultMode;
  const budget = p.budget === undefined || p.budget === null || p.budget === 'auto' ? 0 : p.budget;
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 0 || budget > MAX_BUDGET) {
    throw invalid(
      `budget must be 'auto' or an integer between 0 and ${MAX_BUDGET} (0 and 'auto' mean automatic), got ${JSON.stringify(p.budget)}`,
    );
  }
  if (typeof mode !== 'string' || !(DECODING_MODES as readonly string[]).includes(mode)) {
    throw invalid(`mode must be one of ${DECODING_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return {
    maxTokens: optionalNumber(p, 'maxTokens', DEFAULTS.sampling.maxTokens, 0, MAX_TOKENS_LIMIT),
    temperature: optionalNumber(p, 'temperature', DEFAULTS.sampling.temperature, 0, 100, false),
    topK: optionalNumber(p, 'topK', DEFAULTS.sampling.topK, 0, 1 << 20),
    topP: optionalNumber(p, 'topP', DEFAULTS.sampling.topP, 0, 1, false),
    seed: optionalNumber(p, 'seed', DEFAULTS.sampling.seed, 0, Number.MAX_SAFE_INTEGER),
    stop: stop as string[],
    mode,
    budget,
    maxDepth: optionalNumber(p, 'maxDepth', DEFAULTS.sampling.maxDepth, 1, 1024),
    draftMax: optionalNumber(p, 'draftMax', DEFAULTS.sampling.draftMax, 1, MAX_BUDGET),
    draftPMin: optionalNumber(p, 'draftPMin', DEFAULTS.sampling.draftPMin, 0, 1, false),
    alternatives: optionalNumber(p, 'alternatives', 0, 0, MAX_ALTERNATIVES),
    ...(p.forcedTokens === undefined || p.forcedTokens === null ? {} : { forcedTokens: parseForcedTokens(p.forcedTokens) }),
  };
}

/** Whether a request yields to every other (SamplingParams.priority). */
export function isBackground(p: unknown): boolean {
  const priority = isObject(p) ? p.priority : undefined;
  if (priority === undefined || priority === null || priority === 'normal') return false;
  if (priority === 'background') return true;
  throw invalid(`priority must be 'normal' or 'background', got ${JSON.stringify(priority)}`);
}

function parseForcedTokens(tokens: unknown): number[] {
  if (
    !Array.isArray(tokens) ||
    tokens.length > MAX_FORCED_TOKENS ||
    !tokens.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < 1 << 30)
  ) {
    throw invalid(`forcedTokens must be an array of at most ${MAX_FORCED_TOKENS} token ids (non-negative integers)`);
  }
  return tokens as number[];
}

function parseExtra(extra: unknown): FimPrompt['extra'] {
  if (extra === undefined || extra === null) return undefined;
  if (
    !Array.isArray(extra) ||
    extra.length > MAX_EXTRA_CHUNKS ||
    !extra.every((c) => isObject(c) && typeof c.text === 'string' && (c.filename === undefined || typeof c.filename === 'string'))
  ) {
    throw invalid(`prompt.extra must be an array of at most ${MAX_EXTRA_CHUNKS} chunks {filename: string, text: string}`);
  }
  return extra.map((c) => ({ filename: (c.filename as string | undefined) ?? 'tmp', text: c.text as string }));
}

export function parsePrompt(prompt: unknown): NativeRequest['prompt'] {
  if (typeof prompt === 'string') return prompt;
  if (isObject(prompt) && typeof prompt.prefix === 'string' && typeof (prompt.suffix ?? '') === 'string') {
    const extra = parseExtra(prompt.extra);
    return { prefix: prompt.prefix, suffix: (prompt.suffix as string | undefined) ?? '', ...(extra ? { extra } : {}) };
  }
  throw invalid('prompt must be a string or an object {prefix: string, suffix: string, extra?: [{filename, text}]}');
}

export function parseWarmParams(p: unknown): { prompt: NativeRequest['prompt']; maxTokens: number } {
  if (!isObject(p)) throw invalid('expects an object {prompt, maxTokens?}');
  return { prompt: parsePrompt(p.prompt), maxTokens: optionalNumber(p, 'maxTokens', DEFAULTS.sampling.maxTokens, 0, MAX_TOKENS_LIMIT) };
}

export function parseCompleteParams(p: unknown, defaultMode: DecodingMode): NativeRequest {
  if (!isObject(p)) throw invalid('complete expects an object of parameters');
  return { prompt: parsePrompt(p.prompt), ...parseSampling(p, defaultMode) };
}

export function parseChatMessages(p: unknown): ChatMessage[] {
  if (!isObject(p) || !Array.isArray(p.messages) || p.messages.length === 0) {
    throw invalid('chat expects {messages: [{role, content}, ...]} with at least one message');
  }
  return p.messages.map((m, i) => {
    if (!isObject(m) || !['system', 'user', 'assistant'].includes(m.role as string) || typeof m.content !== 'string') {
      throw invalid(`messages[${i}] must be {role: "system"|"user"|"assistant", content: string}`);
    }
    return { role: m.role as ChatMessage['role'], content: m.content };
  });
}

const MAX_TIMED_PASSES = 64;

export function parseMeasurePassCostParams(p: unknown, maxBatch: number): number[] {
  const batches = isObject(p) ? p.batches : undefined;
  if (
    !Array.isArray(batches) ||
    batches.length === 0 ||
    batches.length > MAX_TIMED_PASSES ||
    !batches.every((n) => Number.isInteger(n) && n >= 1 && n <= maxBatch)
  ) {
    throw invalid(`measurePassCost expects {batches: [...]}: 1 to ${MAX_TIMED_PASSES} integers between 1 and ${maxBatch}`);
  }
  return batches as number[];
}

export function progressToken(p: SamplingParams): string | number | undefined {
  const t = (p as Record<string, unknown>).progressToken;
  return typeof t === 'string' || typeof t === 'number' ? t : undefined;
}
