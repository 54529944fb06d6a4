// The Vulkan build (build-vulkan/) on whatever Vulkan device it finds, Mesa's software lavapipe
// here: losslessness with the target at 0, some and all GPU layers, one target pass per tree,
// agreement with the CPU build, and calibrations that are cached apart from the CPU build's.
// Run by `npm run test:vulkan` (engine-native/tools/test-vulkan.mjs), never by `npm test`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { addonPath } from '../../engine-native/host/native';
import type { InitializeResult } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { testingAddon, type NativeTestingAddon } from '../helpers/testing-addon';
import { makeTestModel, ROOT } from '../helpers/models';
import { CODE_PROMPTS } from '../helpers/prompts';

const VK = testingAddon();
// the CPU build's testing addon, the reference for the Vulkan build's
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CPU = require(path.join(ROOT, 'build', 'Release', 'specexec-testing.node')) as NativeTestingAddon;

// four blocks, so that "some layers" (the output head and one block) is neither none nor all
const SHAPE = { layers: 4, embd: 64, heads: 4, kvHeads: 2, ff: 128, seed: 5 };
const TARGET = makeTestModel('vk-target', SHAPE);
const DRAFT = makeTestModel('vk-draft', { ...SHAPE, noise: 0.2 });
const ALL_LAYERS = SHAPE.layers + 1; // llama.cpp's count: the blocks and the output head
const PLACEMENTS = [{ label: 'no', layers: 0 }, { label: 'some', layers: 2 }, { label: 'all', layers: -1 }];
// lavapipe runs compute shaders on the CPU, ~10x slower than ggml's CPU code: keep the runs short
const PROMPTS = [CODE_PROMPTS[0], CODE_PROMPTS[27]];
const MAX_TOKENS = 12;
const CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'specexec-vk-cache-'));

function isGpu(d: { type: string }): boolean {
  return d.type === 'gpu' || d.type === 'igpu';
}

// one engine process for every placement: initializing a Vulkan device (compiling its pipelines)
// takes about a minute on lavapipe, reloading the models does not
let vulkanHost: EngineClient | undefined;
function loadVulkan(targetGpuLayers: number): Promise<InitializeResult> {
  vulkanHost ??= startEngine({ SPECEXEC_CACHE_DIR: CACHE_DIR });
  return vulkanHost.initialize({
    targetModelPath: TARGET, draftModelPath: DRAFT, threads: 2, contextSize: 1024, maxBudget: 256,
    targetGpuLayers, draftGpuLayers: -1,
  });
}
after(async () => vulkanHost?.shutdown());

test('the Vulkan build is loaded and sees a Vulkan device', () => {
  assert.match(addonPath(), /build-vulkan/);
  const gpus = VK.devices().filter(isGpu);
  assert.ok(gpus.some((d) => d.name.startsWith('Vulkan')), JSON.stringify(VK.devices()));
  assert.ok(!CPU.devices().some(isGpu), 'build/ is the CPU build');
});

const autoregressive = new Map<string, number[]>();

for (const { label, layers } of PLACEMENTS) {
  describe(`target with ${label} GPU layers (${layers})`, () => {
    let engine: EngineClient;
    let info: InitializeResult;
    before(async () => {
      info = await loadVulkan(layers);
      engine = vulkanHost!;
    });

    test('reports the placement and its calibration', (t) => {
      assert.equal(info.offload.targetGpuLayers, layers < 0 ? ALL_LAYERS : layers);
      assert.equal(info.offload.targetLayers, ALL_LAYERS);
      assert.equal(info.offload.draftGpuLayers, ALL_LAYERS);
      assert.ok(info.offload.devices.some(isGpu));
      const curve = (c: { batch: number; ms: number }[]) => c.map((p) => `${p.batch}:${p.ms.toFixed(1)}`).join(' ');
      t.diagnostic(`target pass ms by batch: ${curve(info.calibration.target)}; draft: ${curve(info.calibration.draft)}`);
    });

    test('specexec at budgets 16 and 256 equals autoregressive on every prompt', async () => {
      for (const prompt of PROMPTS) {
        const ar = (await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive' })).tokens;
        assert.equal(ar.length, MAX_TOKENS);
        if (!autoregressive.has(prompt)) autoregressive.set(prompt, ar);
        // the same greedy output whatever the placement: the GPU's arithmetic never flips a token here
        assert.deepEqual(ar, autoregressive.get(prompt), `autoregressive differs across placements: ${JSON.stringify(prompt.slice(0, 40))}`);
        for (const budget of [16, 256]) {
          const r = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'specexec', budget });
          assert.deepEqual(r.tokens, ar, `budget ${budget}: ${JSON.stringify(prompt.slice(0, 40))}`);
        }
      }
    });

    test('a 256-node tree is verified in one target pass', async () => {
      const r = await engine.complete({ prompt: CODE_PROMPTS[13], maxTokens: 16, mode: 'specexec', budget: 256 });
      // exactly one target pass per tree (the prompt's pass only fills the cache)
      assert.equal(r.stats.targetPasses, r.stats.treeSizes.length);
      assert.ok(Math.max(...r.stats.treeSizes) >= 200, `tree sizes ${r.stats.treeSizes}`);
      assert.ok(r.stats.treeSizes.every((n) => n <= 256));
    });
  });
}

describe('Vulkan against the CPU build', () => {
  const tokenizer = new CPU.Tokenizer(TARGET);
  // contexts of >= 32 tokens: with op_offload, that is the batch from which the GPU computes
  // layers whose weights stay in RAM (smaller batches run on the CPU)
  const contexts = [0, 2].map((i) => tokenizer.tokenize(CODE_PROMPTS[i] + CODE_PROMPTS[i + 1], false));
  after(() => tokenizer.close());

  // Measured on lavapipe: the Vulkan products of a >= 32-token batch differ from the CPU's by ~1e-3 of
  // the largest logit (1.5e-2 at |logit| 17), the size of half-precision rounding (unit roundoff
  // 4.9e-4): allow four roundoffs. Greedy choices must agree wherever the CPU's top two logits are
  // further apart than that.
  test('next-token logits agree within half-precision rounding at every placement', async (t) => {
    for (const { label, layers } of PLACEMENTS) {
      const engine = new VK.Engine();
      await engine.load({ targetModelPath: TARGET, threads: 2, contextSize: 1024, targetGpuLayers: layers });
      let maxRel = 0;
      for (const ctx of contexts) {
        assert.ok(ctx.length >= 32);
        const n = ctx.length;
        const want = CPU.evalLogits(TARGET, ctx, 2).subarray((n - 1) * tokenizer.vocabSize(), n * tokenizer.vocabSize());
        const got = VK.testing.nextLogits(engine, ctx);
        let diff = 0;
        let scale = 0;
        for (let v = 0; v < want.length; v++) {
          diff = Math.max(diff, Math.abs(got[v] - want[v]));
          scale = Math.max(scale, Math.abs(want[v]));
        }
        maxRel = Math.max(maxRel, diff / scale);
        const [first, second] = Array.from(want).sort((a, b) => b - a);
        if (first - second > 2 * diff) assert.equal(argmax(got), argmax(want), `${label} layers: argmax differs`);
        t.diagnostic(`${label} GPU layers, ${n} tokens: max |logit diff| vs CPU ${diff.toExponential(2)} (largest |logit| ${scale.toFixed(1)})`);
      }
      engine.close();
      assert.ok(maxRel < 4 * 4.9e-4, `${label}: max |diff| / max |logit| = ${maxRel}`);
    }
  });

  test('greedy outputs equal the CPU build token for token', async (t) => {
    const cpu = startEngine({ SPECEXEC_NATIVE_BUILD: 'build', SPECEXEC_CACHE_DIR: CACHE_DIR });
    try {
      await cpu.initialize({ targetModelPath: TARGET, draftModelPath: DRAFT, threads: 2, contextSize: 1024, maxBudget: 256 });
      let same = 0;
      for (const prompt of PROMPTS) {
        const r = await cpu.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive' });
        assert.ok(autoregressive.has(prompt), 'the losslessness tests ran first');
        if (JSON.stringify(r.tokens) === JSON.stringify(autoregressive.get(prompt))) same++;
      }
      t.diagnostic(`${same}/${PROMPTS.length} greedy outputs identical to the CPU build`);
      assert.equal(same, PROMPTS.length);
    } finally {
      await cpu.shutdown();
    }
  });

  test('calibrations are cached apart: CPU, and Vulkan per GPU layer count', () => {
    const keys = readFileSync(path.join(CACHE_DIR, 'calibration.tsv'), 'utf8').trim().split('\n')
      .map((l) => l.split('\t')[0]).filter((k) => k.startsWith(TARGET));
    assert.ok(keys.some((k) => k.endsWith('|cpu')), keys.join('\n'));
    for (const layers of [0, 2, ALL_LAYERS]) {
      assert.ok(keys.some((k) => /\|Vulkan0=/.test(k) && k.endsWith(`ngl${layers}`)), `ngl${layers}: ${keys.join('\n')}`);
    }
  });
});

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
