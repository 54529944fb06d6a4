// The watchdog (engine-native/host/watchdog.ts) on a real engine process: the native heartbeat
// moves while a generation runs and rests between generations; an engine stopped with SIGSTOP
// mid-generation is found hung, the client kills it, the request in flight fails saying why, and a
// new engine gives the exact greedy completion.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import type { EngineStatus, InitializeResult } from '../../engine-native/host/protocol';
import { EngineWatchdog, stallBoundMs } from '../../engine-native/host/watchdog';
import { startEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const PROMPT = 'def fibonacci(n):\n    if n < 2:\n        return n\n';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function loaded(): Promise<{ client: EngineClient; info: InitializeResult }> {
  const { target, draft } = testModelPair();
  const client = startEngine();
  const info = await client.initialize({ targetModelPath: target, draftModelPath: draft, threads: 2, contextSize: 1024 });
  return { client, info };
}

const greedy = (client: EngineClient, maxTokens = 24) =>
  client.complete({ prompt: PROMPT, maxTokens, temperature: 0 }).then((r) => r.tokens.join(','));

describe('engine: the watchdog on a real engine', () => {
  test('the heartbeat moves while a generation runs and rests between generations', async () => {
    const { client } = await loaded();
    try {
      const idle = [await client.status(), await client.status()];
      assert.deepEqual(
        idle.map((s) => s.activity.generating),
        [false, false],
      );
      assert.equal(idle[0].activity.heartbeat, idle[1].activity.heartbeat, 'no generation, no heartbeat');
      let finished = false;
      const generation = client.complete({ prompt: PROMPT, maxTokens: 250, temperature: 0 }).finally(() => (finished = true));
      const during: EngineStatus[] = [];
      while (!finished) {
        const s = await client.status();
        if (s.activity.generating) during.push(s);
        await sleep(10);
      }
      await generation;
      assert.ok(during.length >= 2, `pings answered during the generation: ${during.length}`);
      const beats = during.map((s) => s.activity.heartbeat);
      assert.ok(beats.at(-1)! > beats[0], `the heartbeat moved: ${beats.join(' ')}`);
      const after = await client.status();
      assert.equal(after.activity.generating, false);
      assert.ok(after.activity.heartbeat >= beats.at(-1)!);
    } finally {
      await client.shutdown();
    }
  });

  test('SIGSTOP mid-generation: found hung, killed, the request fails saying why; a new engine completes exactly', async (t) => {
    const { client, info } = await loaded();
    const want = await greedy(client);
    let streaming!: () => void;
    const started = new Promise<void>((r) => (streaming = r));
    const long = client.complete({ prompt: PROMPT, maxTokens: 250, temperature: 0 }, () => streaming());
    const verdicts: string[] = [];
    const dog = new EngineWatchdog({
      ping: () => client.status(),
      stallBoundMs: stallBoundMs(info.calibration),
      onHung: (why) => {
        verdicts.push(why);
        client.killHung(why);
      },
      pingIntervalMs: 200,
      pingTimeoutMs: 1000,
    });
    const done = dog.track();
    await started;
    process.kill(client.pid!, 'SIGSTOP');
    const stoppedAt = Date.now();
    await assert.rejects(
      long,
      /ended during the request complete \(it stopped responding: it did not answer a ping within 1 s; it was killed\)/,
    );
    const detectedMs = Date.now() - stoppedAt;
    done();
    assert.equal(verdicts.length, 1);
    assert.equal((await client.exited).signal, 'SIGKILL');
    t.diagnostic(`found hung ${detectedMs} ms after the SIGSTOP (a ping every 0.2 s, each given 1 s)`);

    const fresh = await loaded();
    try {
      assert.equal(await greedy(fresh.client), want);
    } finally {
      await fresh.client.shutdown();
    }
  });
});
