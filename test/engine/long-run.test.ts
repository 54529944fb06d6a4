// 10,000 completions in one engine process: resident memory and open file descriptors stay flat
// (no KV, buffer or handle leak). The figures are printed as test diagnostics. The host runs as the
// extension starts it (EngineClient caps V8's young generation, which would otherwise grow to 32 MB
// and pass for a leak); the native engine alone is also checked in this process with forced collections.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { loadAddon } from '../../engine-native/host/native';
import type { DecodingMode } from '../../engine-native/host/protocol';
import { rssMiB, startTestPairEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const TOTAL = 10_000;

describe('engine process: long runs', () => {
  let engine: EngineClient;
  before(async () => {
    engine = await startTestPairEngine({ threads: 2, contextSize: 512 });
  });
  after(async () => engine.shutdown());

  test(`${TOTAL} completions: memory and file descriptors stay flat`, async (t) => {
    const pid = engine.process.pid!;
    const modes: DecodingMode[] = ['specexec', 'autoregressive', 'specinfer', 'chain'];
    const samples: { n: number; rss: number; fds: number }[] = [];
    for (let i = 0; i < TOTAL; i++) {
      // varied prompts, so the prefix cache is both reused and replaced
      const r = await engine.complete({
        prompt: `x_${i % 97} = compute(${i % 13}, `,
        maxTokens: 3,
        mode: modes[i % 4],
        budget: 1 + (i % 16),
      });
      assert.equal(r.tokens.length + (r.stopReason === 'eos' ? 1 : 0) > 0, true);
      if ((i + 1) % 1000 === 0) samples.push({ n: i + 1, rss: rssMiB(pid), fds: readdirSync(`/proc/${pid}/fd`).length });
    }
    t.diagnostic(samples.map((s) => `${s.n}: ${s.rss.toFixed(1)} MiB, ${s.fds} fds`).join('; '));
    // After the first 3,000 every mode, budget and tree shape has been seen and malloc's arenas have
    // settled; a leak of 2 KB per completion would add 13.7 MiB over the 7,000 that follow. What
    // grows without leaking: the host's garbage between V8's full collections (a saw-tooth of up to
    // ~7 MiB, one drop every ~6,000 completions) and a few MiB that level off by ~6,500 (measured
    // over 2026-11-24/25: +2.8 to +7.9 MiB; before the young-generation cap: +22 to +26 MiB). Native
    // memory alone is checked below with forced collections.
    const settled = samples[2],
      last = samples[samples.length - 1];
    assert.ok(last.rss - settled.rss < 12, `RSS grew from ${settled.rss.toFixed(1)} to ${last.rss.toFixed(1)} MiB`);
    assert.equal(last.fds, samples[0].fds, 'open file descriptors');
  });
});

describe('native engine: long runs', () => {
  test('4,000 generations in-process: native memory stays flat', async (t) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const models = testModelPair();
    const engine = new (loadAddon().Engine)();
    await engine.load({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 512 });
    const modes = ['specexec', 'autoregressive', 'specinfer', 'chain'];
    const samples: number[] = [];
    try {
      for (let i = 0; i < 4000; i++) {
        await engine.generate(
          {
            prompt: `y_${i % 89} = f(${i % 7}, `,
            maxTokens: 3,
            temperature: 0,
            topK: 0,
            topP: 1,
            seed: 0,
            stop: [],
            mode: modes[i % 4],
            budget: 1 + (i % 16),
            maxDepth: 32,
            draftMax: 1 + (i % 16),
            draftPMin: 0,
          },
          () => undefined,
        );
        if ((i + 1) % 500 === 0) {
          gc?.();
          samples.push(rssMiB(process.pid));
        }
      }
    } finally {
      engine.close();
    }
    t.diagnostic(`RSS every 500 generations: ${samples.map((x) => x.toFixed(1)).join(', ')} MiB`);
    assert.ok(samples[samples.length - 1] - samples[1] < 8, `native RSS grew from ${samples[1]} to ${samples[samples.length - 1]} MiB`);
  });
});
