// The GROWN target (engine-native/cli/grown-target.ts): the bundled target grown to TinyLlama-1.1B's
// shape must keep its function. Greedy continuations of held-out prompts through the real engine
// process must equal the trained target's, alone and verified under SpecExec with the bundled draft.
// (Its cost curve against a random-weight model of the same shape is a benchmark, not a test:
// engine-native/training/cost_curve.mjs.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureGrownTarget } from '../../engine-native/cli/grown-target';
import { defaultDraftModel, defaultTargetModel } from '../../engine-native/host/bundled-models';
import type { EngineClient } from '../../engine-native/host/engine-client';
import type { CompleteParams } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { ROOT } from '../helpers/models';

const MAX_TOKENS = 16;
// short held-out prompts: a 1.1B model reads ~20 prompt tokens per second on 2 cores
const PROMPTS: CompleteParams['prompt'][] = readFileSync(path.join(ROOT, 'bench', 'prompts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, 4)
  .map((l) => JSON.parse(l) as { prefix: string; suffix: string })
  .map((p) => (p.suffix ? { prefix: p.prefix.slice(-240), suffix: p.suffix.slice(0, 80) } : p.prefix.slice(-300)));

async function greedy(engine: EngineClient, params: Omit<CompleteParams, 'prompt' | 'maxTokens'>): Promise<number[][]> {
  const out: number[][] = [];
  for (const prompt of PROMPTS) out.push((await engine.complete({ prompt, maxTokens: MAX_TOKENS, ...params })).tokens);
  return out;
}

describe('grown target', () => {
  let grown: string;
  let reference: number[][];
  let engine: EngineClient;

  before(async () => {
    grown = ensureGrownTarget(ROOT, defaultTargetModel());
    const trained = startEngine();
    try {
      await trained.initialize({ targetModelPath: defaultTargetModel(), threads: 2 });
      reference = await greedy(trained, { mode: 'autoregressive' });
    } finally {
      await trained.shutdown();
    }
    engine = startEngine();
  });
  after(async () => engine?.shutdown());

  test('has the shape of a real 1.1B model', async () => {
    const init = await engine.initialize({ targetModelPath: grown, draftModelPath: defaultDraftModel(), threads: 2 });
    assert.ok(init.target.parameters > 1.0e9 && init.target.parameters < 1.2e9, `${init.target.parameters} parameters`);
    assert.ok(
      reference.every((t) => t.length === MAX_TOKENS),
      'the trained target generates',
    );
  });

  test("greedy output equals the trained target's, token for token", async () => {
    assert.deepEqual(await greedy(engine, { mode: 'autoregressive' }), reference);
  });

  test('SpecExec with the bundled draft verifies it losslessly', async () => {
    assert.deepEqual(await greedy(engine, { mode: 'specexec', budget: 4 }), reference);
  });
});
