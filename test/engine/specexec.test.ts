// SpecExec's central invariant on the real engine process: every speculative mode and budget gives
// exactly the target's own greedy output, token for token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, type EngineClient } from '../../engine-native/host/engine-client';
import type { CompleteResult, DecodingMode } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';
import { CODE_PROMPTS } from '../helpers/prompts';

const MAX_TOKENS = 24;
const BUDGETS = [1, 4, 16, 64, 256];
const MODES: DecodingMode[] = ['specexec', 'specinfer', 'chain'];

describe('SpecExec losslessness (greedy)', () => {
  const models = testModelPair();
  let engine: EngineClient;
  const reference = new Map<string, number[]>();

  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 2048 });
    for (const prompt of CODE_PROMPTS) {
      reference.set(prompt, (await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive' })).tokens);
    }
  });
  after(async () => engine.shutdown());

  test(`${CODE_PROMPTS.length} prompts are varied`, () => {
    assert.equal(new Set(CODE_PROMPTS).size, 50);
    assert.ok([...reference.values()].every((t) => t.length > 0));
  });

  for (const mode of MODES) {
    for (const budget of mode === 'chain' ? [1, 4, 16] : BUDGETS) {
      test(`${mode} at budget ${budget} equals autoregressive on every prompt`, async () => {
        let accepted = 0;
        let passes = 0;
        for (const prompt of CODE_PROMPTS) {
          const params =
            mode === 'chain'
              ? { prompt, maxTokens: MAX_TOKENS, mode, draftMax: budget, draftPMin: 0 }
              : { prompt, maxTokens: MAX_TOKENS, mode, budget };
          const r = await engine.complete(params);
          assert.deepEqual(r.tokens, reference.get(prompt), `${mode}/${budget}: ${JSON.stringify(prompt.slice(0, 40))}`);
          assert.ok(
            r.stats.treeSizes.every((n) => n <= budget),
            'trees stay within the budget',
          );
          accepted += r.stats.tokens;
          passes += r.stats.targetPasses;
        }
        // the draft agrees with the target often: speculation must actually accept tokens
        if (budget >= 4) assert.ok(accepted / passes > 1.2, `tokens per pass ${(accepted / passes).toFixed(2)}`);
      });
    }
  }

  test('the automatic budget is lossless and reports its choices', async () => {
    for (const prompt of CODE_PROMPTS.slice(0, 10)) {
      const r = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'specexec', budget: 'auto' });
      assert.deepEqual(r.tokens, reference.get(prompt));
      assert.equal(r.stats.budgets.length, r.stats.targetPasses);
      // 0 is a valid choice: no draft when even a small tree does not pay on this machine
      assert.ok(r.stats.budgets.every((b) => b >= 0 && b <= 1024));
    }
  });

  test("the first token comes from the prompt's pass, before any draft work", async () => {
    const one = await engine.complete({ prompt: CODE_PROMPTS[5], maxTokens: 1, mode: 'specexec', budget: 64 });
    assert.deepEqual(one.tokens, reference.get(CODE_PROMPTS[5])!.slice(0, 1));
    assert.equal(one.stats.targetPasses, 1);
    assert.equal(one.stats.draftPasses, 0, 'one token needs no draft');
    const r = await engine.complete({ prompt: CODE_PROMPTS[5], maxTokens: MAX_TOKENS, mode: 'specexec', budget: 64 });
    // the prompt's pass is recorded as a round without a tree; the verification rounds follow
    assert.equal(r.stats.treeSizes[0], 0);
    assert.equal(r.stats.budgets[0], 0);
    assert.ok(r.stats.treeSizes.slice(1).every((n) => n > 0));
  });

  test('specexec is the default mode with a draft loaded', async () => {
    const r = await engine.complete({ prompt: CODE_PROMPTS[0], maxTokens: MAX_TOKENS, budget: 4 });
    assert.ok(r.stats.draftPasses > 0);
    assert.deepEqual(r.tokens, reference.get(CODE_PROMPTS[0]));
  });

  test('long generations stay lossless (200+ rounds) and leave a correct KV cache', async () => {
    const prompt = CODE_PROMPTS[11];
    const ar = await engine.complete({ prompt, maxTokens: 400, mode: 'autoregressive' });
    const sx = await engine.complete({ prompt, maxTokens: 400, mode: 'specexec', budget: 2 });
    assert.deepEqual(sx.tokens, ar.tokens);
    assert.ok(sx.stats.targetPasses >= 200 || ar.stopReason !== 'length', `${sx.stats.targetPasses} rounds`);
  });

  test('prefix reuse gives the same output as a cold start', async () => {
    const base = CODE_PROMPTS[20];
    await engine.complete({ prompt: base + '    if x:\n', maxTokens: 16, mode: 'specexec', budget: 16 });
    const warm = await engine.complete({ prompt: base + '    while y:\n', maxTokens: 16, mode: 'specexec', budget: 16 });
    const cold = startEngine();
    try {
      await cold.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 2048 });
      const fresh = await cold.complete({ prompt: base + '    while y:\n', maxTokens: 16, mode: 'specexec', budget: 16 });
      assert.deepEqual(warm.tokens, fresh.tokens);
    } finally {
      await cold.shutdown();
    }
  });

  test('cancellation mid-tree leaves the engine usable and lossless', async () => {
    for (let i = 0; i < 3; i++) {
      const source = new CancellationTokenSource();
      const running = engine.complete(
        { prompt: CODE_PROMPTS[30 + i], maxTokens: 1000, mode: 'specexec', budget: 256 },
        (_d, tokens) => {
          if (tokens >= 5 + i) source.cancel();
        },
        source.token,
      );
      const r: CompleteResult = await running;
      assert.equal(r.stopReason, 'cancelled');
      const after = await engine.complete({ prompt: CODE_PROMPTS[40 + i], maxTokens: MAX_TOKENS, mode: 'specexec', budget: 64 });
      assert.deepEqual(after.tokens, reference.get(CODE_PROMPTS[40 + i]));
    }
  });

  test('stop strings and end-of-text behave as in autoregressive decoding', async () => {
    for (const prompt of CODE_PROMPTS.slice(0, 10)) {
      const full = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive' });
      if (full.text.length < 12) continue;
      const stop = [full.text.slice(8, 11)];
      const ar = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive', stop });
      const sx = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'specexec', budget: 64, stop });
      assert.equal(sx.text, ar.text);
      assert.equal(sx.stopReason, ar.stopReason);
    }
  });
});
