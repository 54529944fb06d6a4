// Loads the N-API addon (build/Release/specexec.node) and types its surface.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InitializeParams, ModelInfo, StopReason } from './protocol';

export interface NativeLoadResult {
  target: ModelInfo;
  draft: ModelInfo | null;
  threads: number;
  contextSize: number;
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
}

export interface NativeResult {
  text: string;
  tokens: Uint32Array;
  stopReason: StopReason;
  stats: {
    promptTokens: number;
    tokens: number;
    targetPasses: number;
    draftPasses: number;
    budget: number;
    promptMs: number;
    firstTokenMs: number;
    elapsedMs: number;
  };
}

export interface NativeEngine {
  load(params: InitializeParams): Promise<NativeLoadResult>;
  generate(request: NativeRequest, onDelta: (delta: string, tokens: number) => void): Promise<NativeResult>;
  cancel(): void;
  close(): void;
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
  systemInfo(): { llamaSystemInfo: string; maxSequences: number; defaultThreads: number };
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

export function addonPath(): string {
  return process.env.SPECEXEC_ADDON || path.join(packageRoot(), 'build', 'Release', 'specexec.node');
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (!cached) {
    const file = addonPath();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as NativeAddon;
    } catch (e) {
      throw new Error(`cannot load the native engine ${file}: ${(e as Error).message}. ` +
        'Build it with `npm run build` (needs cmake, a C++ compiler and git).');
    }
  }
  return cached;
}
