// 10,000 completions in one engine process: resident memory and open file descriptors stay flat
// (no KV, buffer or handle leak). The figures are printed as test diagnostics.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import type { DecodingMode } from '../../engine-native/host/protocol';
import { rssMiB, startEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const TOTAL = 10_000;

describe('engine process: long runs', () => {
  const models = testModelPair();
  let engine: EngineClient;
  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 512 });
  });
  after(async () => engine.shutdown());

  test(`${TOTAL} completions: memory and file descriptors stay flat`, async (t) => {
    const pid = engine.process.pid!;
    const modes: DecodingMode[] = ['specexec', 'autoregressive', 'specinfer', 'chain'];
    const samples: { n: number; rss: number; fds: number }[] = [];
    for (let i = 0; i < TOTAL; i++) {
      // varied prompts, so the prefix cache is both reused and replaced
      const r = await engine.complete({ prompt: `x_${i % 97} = compute(${i % 13}, `, maxTokens: 3, mode: modes[i % 4], budget: 1 + (i % 16) });
      assert.equal(r.tokens.length + (r.stopReason === 'eos' ? 1 : 0) > 0, true);
      if ((i + 1) % 1000 === 0) samples.push({ n: i + 1, rss: rssMiB(pid), fds: readdirSync(`/proc/${pid}/fd`).length });
    }
    t.diagnostic(samples.map((s) => `${s.n}: ${s.rss.toFixed(1)} MiB, ${s.fds} fds`).join('; '));
    const first = samples[0], last = samples[samples.length - 1];
    assert.ok(last.rss - first.rss < 16, `RSS grew from ${first.rss.toFixed(1)} to ${last.rss.toFixed(1)} MiB`);
    assert.equal(last.fds, first.fds, 'open file descriptors');
  });
});
