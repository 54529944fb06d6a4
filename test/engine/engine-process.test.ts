// The real engine host process over real stdio with real llama.cpp inference on small GGUF models.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { CancellationTokenSource, type EngineClient } from '../../engine-native/host/engine-client';
import { testingAddon } from '../helpers/testing-addon';
import { ErrorCodes, type InitializeResult } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const PROMPTS = [
  'def add(a, b):',
  'function fibonacci(n) {\n  if (n < 2) return n;\n',
  '#include <stdio.h>\n\nint main(void) {\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n',
];

async function rejection(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a JSON-RPC error, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the request to fail');
}

describe('engine process', () => {
  const models = testModelPair();
  let engine: EngineClient;
  let init: InitializeResult;

  before(async () => {
    engine = startEngine();
    init = await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 1024 });
  });
  after(async () => engine.shutdown());

  test('initialize reports both models, the tokenizer and the FIM tokens', () => {
    assert.equal(init.target.architecture, 'llama');
    assert.equal(init.draft?.architecture, 'llama');
    assert.equal(init.target.vocabSize, 32256);
    assert.deepEqual(init.target.fim, { prefix: 32016, suffix: 32015, middle: 32017, repo: null, fileSeparator: null });
    assert.equal(init.threads, 2);
    assert.deepEqual(init.modes, ['autoregressive', 'specexec', 'specinfer', 'chain']);
    assert.ok(init.calibration.target.length > 0 && init.calibration.draft.length > 0, 'start-up calibration ran');
  });

  test('with a draft loaded, completions use SpecExec and report their trees', async () => {
    // a fixed budget: `auto` may rightly decide that no draft pays on this machine
    const r = await engine.complete({ prompt: PROMPTS[3], maxTokens: 32, budget: 4 });
    assert.ok(r.stats.draftPasses > 0);
    assert.equal(r.stats.treeSizes.length, r.stats.targetPasses);
    assert.ok(r.stats.budget >= 1);
    assert.equal(
      r.stats.tokensPerPassHistogram.reduce((a, b) => a + b, 0),
      r.stats.targetPasses,
    );
  });

  test('completes a prompt and reports stats', async () => {
    const r = await engine.complete({ prompt: PROMPTS[0], maxTokens: 16, mode: 'autoregressive' });
    assert.equal(r.stopReason, 'length');
    assert.equal(r.tokens.length, 16);
    assert.equal(r.stats.tokens, 16);
    assert.ok(r.text.length > 0);
    assert.equal(r.stats.targetPasses, 16);
    assert.equal(r.stats.tokensPerTargetPass, 1);
    assert.ok(r.stats.tokensPerSecond > 0 && r.stats.elapsedMs > 0);
  });

  test('greedy output is deterministic and equals token-by-token decoding', async () => {
    const addon = testingAddon();
    for (const prompt of PROMPTS) {
      const a = await engine.complete({ prompt, maxTokens: 24 });
      const b = await engine.complete({ prompt, maxTokens: 24 });
      assert.deepEqual(a.tokens, b.tokens, 'same request, same tokens');
      const reference = Array.from(addon.referenceGreedy(models.target, prompt, 24, 2));
      assert.deepEqual(a.tokens, reference, `prompt ${JSON.stringify(prompt)}`);
    }
  });

  test("fill-in-the-middle prompts are built with the model's FIM tokens", async () => {
    const prompt = { prefix: 'def area(r):\n    return ', suffix: '\n\nprint(area(2))\n' };
    const r = await engine.complete({ prompt, maxTokens: 12 });
    assert.deepEqual(r.tokens, Array.from(testingAddon().referenceGreedy(models.target, prompt, 12, 2)));
  });

  test('streamed deltas concatenate to the final text', async () => {
    let streamed = '';
    let calls = 0;
    const r = await engine.complete({ prompt: PROMPTS[1], maxTokens: 32 }, (delta) => {
      streamed += delta;
      calls++;
    });
    assert.equal(streamed, r.text);
    assert.ok(calls > 1, 'text arrives in several deltas');
  });

  test('stop strings end the text before the stop string', async () => {
    const full = await engine.complete({ prompt: PROMPTS[2], maxTokens: 32 });
    const stop = full.text.slice(10, 13);
    assert.ok(stop.length === 3);
    let streamed = '';
    const r = await engine.complete({ prompt: PROMPTS[2], maxTokens: 32, stop: [stop] }, (d) => {
      streamed += d;
    });
    assert.equal(r.stopReason, 'stop');
    assert.equal(r.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.equal(streamed, r.text);
  });

  test('sampling with a seed is reproducible and differs from greedy', async () => {
    const params = { prompt: PROMPTS[0], maxTokens: 24, temperature: 1.5, seed: 7 };
    const a = await engine.complete(params);
    const b = await engine.complete(params);
    const c = await engine.complete({ ...params, seed: 8 });
    const greedy = await engine.complete({ prompt: PROMPTS[0], maxTokens: 24 });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
    assert.notDeepEqual(a.tokens, greedy.tokens);
  });

  test('cancellation stops a generation mid-way and the process serves the next request', async () => {
    const source = new CancellationTokenSource();
    let seen = 0;
    const running = engine.complete(
      { prompt: PROMPTS[3], maxTokens: 4000 },
      (_d, tokens) => {
        seen = tokens;
        if (tokens >= 8) source.cancel();
      },
      source.token,
    );
    const r = await running;
    assert.equal(r.stopReason, 'cancelled');
    assert.ok(r.tokens.length >= 8 && r.tokens.length < 4000, `stopped after ${r.tokens.length} tokens`);
    assert.ok(seen >= 8);
    const next = await engine.complete({ prompt: PROMPTS[0], maxTokens: 8 });
    assert.equal(next.stopReason, 'length');
    assert.equal(next.tokens.length, 8);
  });

  test('a request cancelled while queued is rejected with RequestCancelled', async () => {
    const source = new CancellationTokenSource();
    const first = engine.complete({ prompt: PROMPTS[0], maxTokens: 64 });
    const queued = engine.complete({ prompt: PROMPTS[1], maxTokens: 64 }, undefined, source.token);
    source.cancel();
    const err = await rejection(queued);
    assert.equal(err.code, ErrorCodes.RequestCancelled);
    assert.equal((await first).tokens.length, 64);
  });

  test('bad parameters get InvalidParams and the process keeps serving', async () => {
    for (const bad of [
      { prompt: 42 },
      { prompt: 'x', maxTokens: -1 },
      { prompt: 'x', temperature: 'hot' },
      { prompt: 'x', mode: 'warp' },
      { prompt: 'x', stop: 'no' },
      { prompt: 'x', topP: 2 },
      // negative, absurd and non-finite numbers
      { prompt: 'x', maxTokens: 1e12 },
      { prompt: 'x', maxTokens: 2.5 },
      { prompt: 'x', budget: -5 },
      { prompt: 'x', budget: 1e9 },
      { prompt: 'x', temperature: -1 },
      { prompt: 'x', temperature: 1e300 },
      { prompt: 'x', seed: -1 },
      { prompt: 'x', seed: 1e300 },
      { prompt: 'x', topK: -3 },
      { prompt: 'x', maxDepth: 0 },
      { prompt: 'x', draftPMin: 'NaN' },
      { prompt: 'x', maxTokens: null, budget: {} },
    ]) {
      const err = await rejection(engine.connection.sendRequest('complete', bad));
      assert.equal(err.code, ErrorCodes.InvalidParams, JSON.stringify(bad));
    }
    assert.equal((await engine.complete({ prompt: 'x = ', maxTokens: 4 })).tokens.length, 4);
  });

  test('measurePassCost times target passes after the cached history and leaves the cache as it was', async () => {
    const before = await engine.complete({ prompt: PROMPTS[1], maxTokens: 16, mode: 'autoregressive' });
    const points = await engine.measurePassCost({ batches: [1, 8, 64] });
    assert.deepEqual(
      points.map((p) => p.batch),
      [1, 8, 64],
    );
    assert.ok(
      points.every((p) => Number.isFinite(p.ms) && p.ms > 0),
      JSON.stringify(points),
    );
    const again = await engine.complete({ prompt: PROMPTS[1] + before.text, maxTokens: 8, mode: 'autoregressive' });
    const reference = Array.from(testingAddon().referenceGreedy(models.target, PROMPTS[1] + before.text, 8, 2));
    assert.deepEqual(again.tokens, reference, 'the timed passes left nothing in the history');
    // the host checks the shape; the engine checks that the passes fit the context after the history
    for (const bad of [
      {},
      { batches: [] },
      { batches: [0] },
      { batches: [2.5] },
      { batches: ['8'] },
      { batches: [1e6] },
      { batches: [1000] },
    ]) {
      const err = await rejection(engine.connection.sendRequest('specexec/measurePassCost', bad));
      assert.equal(err.code, ErrorCodes.InvalidParams, JSON.stringify(bad));
      assert.match(err.message, /batch/);
    }
  });

  test('an unknown method gets MethodNotFound and the process keeps serving', async () => {
    const err = await rejection(engine.connection.sendRequest('teleport', {}));
    assert.equal(err.code, ErrorCodes.MethodNotFound);
    assert.equal((await engine.complete({ prompt: 'y = ', maxTokens: 4 })).tokens.length, 4);
  });
});
