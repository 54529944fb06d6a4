// Test models: small random-weight llama GGUFs with the deepseek-coder tokenizer, generated on
// first use by engine-native/tools/make_test_model.py (deterministic) and cached in test/.models.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../engine-native/host/native';

export const ROOT = packageRoot();
const CACHE = path.join(ROOT, 'test', '.models');

interface Shape {
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  ff: number;
  seed: number;
}

function python(): string {
  // Debian's python3 has numpy; a pyenv python earlier on PATH may not
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export function makeTestModel(name: string, shape: Shape): string {
  const file = path.join(CACHE, `${name}-${shape.layers}L${shape.embd}d-s${shape.seed}.gguf`);
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    execFileSync(python(), [path.join(ROOT, 'engine-native', 'tools', 'make_test_model.py'), file,
      '--layers', String(shape.layers), '--embd', String(shape.embd), '--heads', String(shape.heads),
      '--kv-heads', String(shape.kvHeads), '--ff', String(shape.ff), '--seed', String(shape.seed)], { stdio: 'pipe' });
  }
  return file;
}

/** A random draft/target pair (same tokenizer, different weights and shapes). */
export function testModelPair(): { draft: string; target: string } {
  return {
    target: makeTestModel('target', { layers: 2, embd: 64, heads: 4, kvHeads: 2, ff: 128, seed: 1 }),
    draft: makeTestModel('draft', { layers: 1, embd: 32, heads: 2, kvHeads: 2, ff: 64, seed: 2 }),
  };
}

export const VOCAB_GGUF = path.join(ROOT, 'build', 'llama.cpp', 'models', 'ggml-vocab-deepseek-coder.gguf');
