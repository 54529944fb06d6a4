// The Vulkan build (build-vulkan/) on whatever Vulkan device it finds, Mesa's software lavapipe
// here: losslessness with the target at 0, some and all GPU layers, one target pass per tree,
// agreement with the CPU build, and calibrations that are cached apart from the CPU build's.
// Run by `npm run test:vulkan` (engine-native/tools/test-vulkan.mjs), never by `npm test`.
//
// One addon per process, as engine-native/host/native.ts keeps it: both builds link libllama.so,
// libggml.so and libggml-base.so under the same sonames, so a second addon loaded here would be
// bound to the first one's libraries (the "CPU build" would run the Vulkan build's ggml). The CPU
// build's numbers come from a child process instead: this file again, in its CPU reference role.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { addonPath } from '../../engine-native/host/native';
import type { DeviceInfo, InitializeResult } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { testingAddon } from '../helpers/testing-addon';
import { makeTestModel } from '../helpers/models';
import { CODE_PROMPTS } from '../helpers/prompts';

/** build-vulkan's testing addon; build's in the CPU reference role (SPECEXEC_NATIVE_BUILD=build). */
const addon = testingAddon();

// four blocks, so that "some layers" (the output head and one block) is neither none nor all
const SHAPE = { layers: 4, embd: 64, heads: 4, kvHeads: 2, ff: 128, seed: 5 };
const TARGET = makeTestModel('vk-target', SHAPE);
const DRAFT = makeTestModel('vk-draft', { ...SHAPE, noise: 0.2 });
const ALL_LAYERS = SHAPE.layers + 1; // llama.cpp's count: the blocks and the output head
const PLACEMENTS = [
  { label: 'no', layers: 0 },
  { label: 'some', layers: 2 },
  { label: 'all', layers: -1 },
];
// lavapipe runs compute shaders on the CPU, ~10x slower than ggml's CPU code: keep the runs short
const PROMPTS = [CODE_PROMPTS[0], CODE_PROMPTS[27]];
const MAX_TOKENS = 12;
// contexts of >= 32 tokens: with op_offload, that is the batch from which the GPU computes layers
// whose weights stay in RAM (smaller batches run on the CPU)
const LOGIT_CONTEXTS = [0, 2].map((i) => CODE_PROMPTS[i] + CODE_PROMPTS[i + 1]);

/** What the CPU build computes, in a process of its own. */
interface CpuReference {
  devices: DeviceInfo[];
  /** LOGIT_CONTEXTS tokenized. */
  contexts: number[][];
  /** Per context, the target's next-token logits after it (float32, base64). */
  nextLogits: string[];
}

/** Set in the child: the file the CPU reference is written to. */
const CPU_REFERENCE_OUT = 'SPECEXEC_VK_CPU_REFERENCE_OUT';
const referenceOut = process.env[CPU_REFERENCE_OUT];
if (referenceOut) {
  writeFileSync(referenceOut, JSON.stringify(computeCpuReference()));
  process.exit(0); // before a single test is declared
}

function computeCpuReference(): CpuReference {
  assert.doesNotMatch(addonPath(), /build-vulkan/);
  const tokenizer = new addon.Tokenizer(TARGET);
  const vocab = tokenizer.vocabSize();
  const contexts = LOGIT_CONTEXTS.map((text) => tokenizer.tokenize(text, false));
  tokenizer.close();
  const nextLogits = contexts.map((ctx) => {
    const last = addon.evalLogits(TARGET, ctx, 2).subarray((ctx.length - 1) * vocab, ctx.length * vocab);
    return Buffer.from(last.buffer, last.byteOffset, last.byteLength).toString('base64');
  });
  return { devices: addon.devices(), contexts: contexts.map((c) => Array.from(c)), nextLogits };
}

const CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'specexec-vk-cache-'));

let cpuReference: CpuReference | undefined;
/** The CPU build's reference, from this file run in a child process with the CPU build. */
function cpu(): CpuReference {
  if (cpuReference) return cpuReference;
  const out = path.join(CACHE_DIR, 'cpu-reference.json');
  const r = spawnSync(process.execPath, [__filename], {
    env: { ...process.env, SPECEXEC_NATIVE_BUILD: 'build', [CPU_REFERENCE_OUT]: out },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `the CPU reference process failed: ${r.stderr}`);
  cpuReference = JSON.parse(readFileSync(out, 'utf8')) as CpuReference;
  return cpuReference;
}

function float32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function isGpu(d: { type: string }): boolean {
  return d.type === 'gpu' || d.type === 'igpu';
}

// one engine process for every placement: initializing a Vulkan device (compiling its pipelines)
// takes about a minute on lavapipe, reloading the models does not
let vulkanHost: EngineClient | undefined;
function loadVulkan(targetGpuLayers: number): Promise<InitializeResult> {
  vulkanHost ??= startEngine({ SPECEXEC_CACHE_DIR: CACHE_DIR });
  return vulkanHost.initialize({
    targetModelPath: TARGET,
    draftModelPath: DRAFT,
    threads: 2,
    contextSize: 1024,
    maxBudget: 256,
    targetGpuLayers,
    draftGpuLayers: -1,
  });
}
after(async () => vulkanHost?.shutdown());

test('the Vulkan build is loaded and sees a Vulkan device', () => {
  assert.match(addonPath(), /build-vulkan/);
  const gpus = addon.devices().filter(isGpu);
  assert.ok(
    gpus.some((d) => d.name.startsWith('Vulkan')),
    JSON.stringify(addon.devices()),
  );
  assert.ok(!cpu().devices.some(isGpu), `build/ is the CPU build: ${JSON.stringify(cpu().devices)}`);
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
        assert.deepEqual(
          ar,
          autoregressive.get(prompt),
          `autoregressive differs across placements: ${JSON.stringify(prompt.slice(0, 40))}`,
        );
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
  // Measured on lavapipe: the Vulkan products of a >= 32-token batch differ from the CPU's by ~1e-3 of
  // the largest logit (1.5e-2 at |logit| 17), the size of half-precision rounding (unit roundoff
  // 4.9e-4): allow four roundoffs. Greedy choices must agree wherever the CPU's top two logits are
  // further apart than that.
  test('next-token logits agree within half-precision rounding at every placement', async (t) => {
    const reference = cpu();
    for (const { label, layers } of PLACEMENTS) {
      const engine = new addon.Engine();
      await engine.load({ targetModelPath: TARGET, threads: 2, contextSize: 1024, targetGpuLayers: layers });
      let maxRel = 0;
      for (const [i, tokens] of reference.contexts.entries()) {
        assert.ok(tokens.length >= 32);
        const n = tokens.length;
        const want = float32(reference.nextLogits[i]);
        const got = addon.testing.nextLogits(engine, Uint32Array.from(tokens));
        let diff = 0;
        let scale = 0;
        for (let v = 0; v < want.length; v++) {
          diff = Math.max(diff, Math.abs(got[v] - want[v]));
          scale = Math.max(scale, Math.abs(want[v]));
        }
        maxRel = Math.max(maxRel, diff / scale);
        const [first, second] = Array.from(want).sort((a, b) => b - a);
        if (first - second > 2 * diff) assert.equal(argmax(got), argmax(want), `${label} layers: argmax differs`);
        t.diagnostic(
          `${label} GPU layers, ${n} tokens: max |logit diff| vs CPU ${diff.toExponential(2)} (largest |logit| ${scale.toFixed(1)})`,
        );
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
    const keys = readFileSync(path.join(CACHE_DIR, 'calibration.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0])
      .filter((k) => k.startsWith(TARGET));
    assert.ok(
      keys.some((k) => k.endsWith('|cpu')),
      keys.join('\n'),
    );
    for (const layers of [0, 2, ALL_LAYERS]) {
      assert.ok(
        keys.some((k) => /\|Vulkan0=/.test(k) && k.endsWith(`ngl${layers}`)),
        `ngl${layers}: ${keys.join('\n')}`,
      );
    }
  });
});

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
