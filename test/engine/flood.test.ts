// Fast typing: 1,000 completion requests in a burst, each cancelling the one before. The engine
// answers the latest correctly, cancels or drops the rest, never runs more than a handful, and its
// memory returns to where it was.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { CancellationTokenSource, type EngineClient } from '../../engine-native/host/engine-client';
import { testingAddon } from '../helpers/testing-addon';
import { ErrorCodes, type CompleteResult } from '../../engine-native/host/protocol';
import { rssMiB, startTestPairEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

describe('engine process: request floods', () => {
  const models = testModelPair();
  let engine: EngineClient;
  before(async () => {
    engine = await startTestPairEngine({ threads: 2, contextSize: 1024 });
  });
  after(async () => engine.shutdown());

  test('1000 requests, each cancelling the previous: the latest is answered, the rest cancelled', async () => {
    const prompt = (i: number) => `def handler_${i}(event):\n    `;
    for (let i = 0; i < 20; i++) await engine.complete({ prompt: prompt(i), maxTokens: 32 }); // warm up
    const before = rssMiB(engine.process.pid!);

    const sources: CancellationTokenSource[] = [];
    const pending: Promise<CompleteResult | ResponseError<unknown>>[] = [];
    for (let i = 0; i < 1000; i++) {
      sources[i - 1]?.cancel();
      sources.push(new CancellationTokenSource());
      pending.push(
        engine.complete({ prompt: prompt(i), maxTokens: 32 }, undefined, sources[i].token).catch((e: ResponseError<unknown>) => e),
      );
    }
    const results = await Promise.all(pending);
    const last = results[999];
    assert.ok(!(last instanceof ResponseError), `the latest request failed: ${String(last)}`);
    assert.deepEqual(last.tokens, Array.from(testingAddon().referenceGreedy(models.target, prompt(999), 32, 2)));

    let completed = 0;
    for (const r of results.slice(0, 999)) {
      if (r instanceof ResponseError) assert.equal(r.code, ErrorCodes.RequestCancelled, r.message);
      else if (r.stopReason !== 'cancelled') completed++;
    }
    assert.ok(completed <= 20, `${completed} superseded requests ran to completion`);

    for (let i = 0; i < 20; i++) await engine.complete({ prompt: prompt(i), maxTokens: 32 });
    const afterBurst = rssMiB(engine.process.pid!);
    assert.ok(afterBurst < before + 32, `RSS ${before.toFixed(0)} MiB before, ${afterBurst.toFixed(0)} MiB after`);
  });
});
