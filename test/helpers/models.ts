// Test models: small random-weight llama GGUFs with the deepseek-coder tokenizer, generated on
// first use by engine-native/tools/make_test_model.py (deterministic) and cached in test/.models.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { python } from '../../engine-native/cli/grown-target';
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
  noise?: number;
  vocab?: string;
  arch?: string;
  /** Metadata keys (make_test_model.py --kv KEY=JSON). */
  kv?: string[];
}

export function makeTestModel(name: string, shape: Shape): string {
  const file = path.join(CACHE, `${name}-${shape.layers}L${shape.embd}d-s${shape.seed}-n${shape.noise ?? 0}.gguf`);
  const extra = [
    ...(shape.vocab ? ['--vocab', shape.vocab] : []),
    ...(shape.arch ? ['--arch', shape.arch] : []),
    ...(shape.kv ?? []).flatMap((kv) => ['--kv', kv]),
  ];
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    execFileSync(
      python(),
      [
        path.join(ROOT, 'engine-native', 'tools', 'make_test_model.py'),
        file,
        '--layers',
        String(shape.layers),
        '--embd',
        String(shape.embd),
        '--heads',
        String(shape.heads),
        '--kv-heads',
        String(shape.kvHeads),
        '--ff',
        String(shape.ff),
        '--seed',
        String(shape.seed),
        '--noise',
        String(shape.noise ?? 0),
        ...extra,
      ],
      { stdio: 'pipe' },
    );
  }
  return file;
}

const TARGET_SHAPE = { layers: 2, embd: 64, heads: 4, kvHeads: 2, ff: 128, seed: 1 };

/**
 * A random draft/target pair with one tokenizer. The draft is the target with noise on every
 * weight, so the two agree often but not always, as a real same-family pair does.
 */
export function testModelPair(): { draft: string; target: string } {
  return {
    target: makeTestModel('target', TARGET_SHAPE),
    draft: makeTestModel('draft', { ...TARGET_SHAPE, noise: 0.2 }),
  };
}

/** A draft that has nothing in common with the test target but the tokenizer. */
export function unrelatedDraft(): string {
  return makeTestModel('unrelated', { layers: 1, embd: 32, heads: 2, kvHeads: 2, ff: 64, seed: 2 });
}

export const VOCAB_GGUF = path.join(ROOT, 'build', 'llama.cpp', 'models', 'ggml-vocab-deepseek-coder.gguf');

/**
 * A target whose vocabulary has repository-level FIM tokens: StarCoder's, whose <repo_name> (5)
 * and <file_sep> (6) are declared as llama.cpp's FIM_REP and FIM_SEP in the metadata (a
 * Qwen2.5-Coder vocabulary's <|repo_name|> and <|file_sep|> are found by their names).
 */
export function repoFimTestModel(): string {
  return makeTestModel('repo-fim', {
    ...TARGET_SHAPE,
    vocab: path.join(ROOT, 'build', 'llama.cpp', 'models', 'ggml-vocab-starcoder.gguf'),
    kv: ['tokenizer.ggml.fim_rep_token_id=5', 'tokenizer.ggml.fim_sep_token_id=6'],
  });
}
