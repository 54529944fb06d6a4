// The engine's C++ defaults against the protocol's DEFAULTS (no native build needed): a C++
// caller that leaves a field alone gets what a client that omits it gets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../../engine-native/host/native';
import { DEFAULTS } from '../../../engine-native/host/protocol';

const source = (file: string) => readFileSync(path.join(packageRoot(), 'engine-native', 'src', file), 'utf8');

function cppDefault(file: string, field: string): number {
  const m = new RegExp(`\\b${field}\\s*=\\s*(-?[\\d.]+)f?;`).exec(source(file));
  assert.ok(m, `no default for ${field} in src/${file}`);
  return Number(m[1]);
}

const FIELDS: [file: string, cpp: string, value: number][] = [
  ['engine.h', 'threads', DEFAULTS.initialize.threads],
  ['engine.h', 'n_ctx', DEFAULTS.initialize.contextSize],
  ['engine.h', 'n_gpu_layers_draft', DEFAULTS.initialize.draftGpuLayers],
  ['engine.h', 'n_gpu_layers_target', DEFAULTS.initialize.targetGpuLayers],
  ['engine.h', 'vram_budget_mib', DEFAULTS.initialize.vramBudgetMiB],
  ['engine.h', 'max_budget', DEFAULTS.initialize.maxBudget],
  ['engine.h', 'max_tokens', DEFAULTS.sampling.maxTokens],
  ['engine.h', 'max_depth', DEFAULTS.sampling.maxDepth],
  ['engine.h', 'draft_max', DEFAULTS.sampling.draftMax],
  ['engine.h', 'draft_p_min', DEFAULTS.sampling.draftPMin],
  ['sampler.h', 'temperature', DEFAULTS.sampling.temperature],
  ['sampler.h', 'top_k', DEFAULTS.sampling.topK],
  ['sampler.h', 'top_p', DEFAULTS.sampling.topP],
  ['sampler.h', 'seed', DEFAULTS.sampling.seed],
];

test("every C++ default of a protocol field is the protocol's", () => {
  for (const [file, field, value] of FIELDS) assert.equal(cppDefault(file, field), value, `src/${file} ${field}`);
});

test('the table covers every protocol default', () => {
  const declared = Object.values(DEFAULTS).flatMap((group) => Object.values(group)).length;
  assert.equal(FIELDS.length, declared);
});
