// The automatic budget on synthetic cost curves (a flat GPU-like curve grows the tree, a CPU-like
// one keeps it small), the arithmetic that turns a VRAM budget into GPU layers, the sizes it reads
// from a GGUF, and the error a CPU build gives when asked for GPU layers. CPU build; fast.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadAddon, type OffloadSizes } from '../../engine-native/host/native';
import type { CostPoint } from '../../engine-native/host/protocol';
import { testModelPair } from '../helpers/models';

const addon = loadAddon();
const { testing } = addon;
const MIB = 1024 * 1024;
const BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

function curve(ms: (n: number) => number, batches = BATCHES): CostPoint[] {
  return batches.map((batch) => ({ batch, ms: ms(batch) }));
}

describe('automatic budget on synthetic cost curves', () => {
  // a draft on the GPU: a pass costs 2 ms for any batch up to the 128 beams
  const draft = curve(() => 2, [1, 2, 4, 8, 16, 32, 64, 128]);

  test('a flat target curve (offloaded weights: cost(1) ~ cost(512)) grows the tree to hundreds', () => {
    const target = curve((n) => 400 + 0.05 * n); // 400 ms at 1 token, 425.6 ms at 512
    const r = testing.chooseBudget({ draft, target, maxBudget: 1024, limit: 1024 });
    assert.ok(r.budget >= 255, `chose ${r.budget}: ${JSON.stringify(r.rates)}`);
    // and it is the rate's maximum, not a default
    const best = Math.max(...r.rates.map((x) => x.tokensPerMs));
    assert.equal(r.rates.find((x) => x.budget === r.budget)!.tokensPerMs, best);
  });

  test('the same flat curve under a smaller limit takes the limit', () => {
    const target = curve((n) => 400 + 0.05 * n);
    assert.equal(testing.chooseBudget({ draft, target, maxBudget: 1024, limit: 64 }).budget, 63); // trees of 2^n - 1 nodes
  });

  test('a CPU-like curve (cost grows with the batch from the first token) keeps the tree small', () => {
    const target = curve((n) => 10 * n);      // compute-bound: twice the tokens, twice the time
    const cpuDraft = curve((n) => 3 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
    const r = testing.chooseBudget({ draft: cpuDraft, target, maxBudget: 1024, limit: 1024 });
    assert.ok(r.budget <= 4, `chose ${r.budget}: ${JSON.stringify(r.rates)}`);
  });
});

describe('a stale draft catches up only when it pays', () => {
  // a draft behind by a whole long prompt must prefill it before drafting (it stays behind while
  // rounds go without it); that pays for many tokens to come, not for a few
  const target = curve((n) => 100 + 5 * n);
  const draft = curve((n) => 1 + 0.1 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
  const choose = (staleTokens: number, remaining: number) =>
    testing.chooseBudget({ draft, target, maxBudget: 1024, limit: 1024, staleTokens, remaining });

  test('drafting pays on this curve', () => assert.ok(choose(0, 1).budget > 0));
  test('a draft 4,000 tokens behind is not brought up to date for 2 tokens', () => assert.equal(choose(4000, 2).catchUpPays, false));
  test('it is for 100 tokens, and a few tokens behind always are', () => {
    assert.equal(choose(4000, 100).catchUpPays, true);
    assert.equal(choose(3, 2).catchUpPays, true);
  });
});

describe('VRAM budget -> GPU layers', () => {
  // llama.cpp's count: n_layer blocks + the output head, offloaded from the top
  const target: OffloadSizes = { layerBytes: Array(10).fill(100 * MIB), outputBytes: 50 * MIB, kvLayerBytes: 10 * MIB, computeBytes: 200 * MIB };
  const draft: OffloadSizes = { layerBytes: Array(4).fill(10 * MIB), outputBytes: 20 * MIB, kvLayerBytes: 2 * MIB, computeBytes: 30 * MIB };
  const draftAll = 30 + 20 + 4 * (10 + 2); // 98 MiB: scratch, head, 4 blocks with their KV

  test('the draft goes whole, the target gets its scratch and the layers that fit', () => {
    // 98 (draft) + 200 (target scratch) + 50 (head) + 2 blocks of 110 = 568 MiB; +50 spare
    const c = testing.offloadChoose(draft, target, (568 + 50) * MIB);
    assert.deepEqual(c, { draftLayers: 5, targetLayers: 3, draftBytes: draftAll * MIB, targetBytes: 470 * MIB });
  });

  test('a budget below the target scratch and the draft places nothing', () => {
    const c = testing.offloadChoose(draft, target, 100 * MIB);
    assert.equal(c.targetLayers, 0);
    assert.equal(c.draftLayers, 0);
  });

  test('a large budget places everything; without a draft the target gets it all', () => {
    const c = testing.offloadChoose(draft, target, 64 * 1024 * MIB);
    assert.equal(c.draftLayers, 5);
    assert.equal(c.targetLayers, 11);
    assert.equal(c.targetBytes, (200 + 50 + 10 * 110) * MIB);
    assert.equal(testing.offloadChoose(null, target, (200 + 50 + 110) * MIB).targetLayers, 2);
  });

  test('sizes read from a GGUF match its shape', async () => {
    const { target: path } = testModelPair();
    const info = await addon.inspectModel(path);
    const s = testing.offloadSizes(path, 1024, 256);
    assert.equal(s.layerBytes.length, info.layers);
    assert.ok(s.layerBytes.every((b) => b > 0));
    // test target: 2 KV heads of 16 dimensions, F32 K and V for 1024 cells
    assert.equal(s.kvLayerBytes, 4 * 1024 * (32 + 32));
    // the scratch is sized by the widest intermediate: here the logits over the 32k vocabulary, and
    // with a 16k context the 4 heads' attention scores
    assert.equal(s.computeBytes, 4 * 256 * (info.vocabSize + 4 * info.embeddingSize));
    assert.equal(testing.offloadSizes(path, 16384, 256).computeBytes, 4 * 256 * (4 * 16384 + 4 * info.embeddingSize));
    // blocks + head + token embeddings (F32) = the tensor data: the file adds only its metadata (~1 MiB of vocabulary)
    const embd = info.vocabSize * info.embeddingSize * 4;
    const total = s.layerBytes.reduce((a, b) => a + b, 0) + s.outputBytes + embd;
    assert.ok(total <= info.sizeBytes && total > info.sizeBytes - 2 * MIB, `${total} vs file ${info.sizeBytes}`);
  });
});

describe('GPU settings on a build without a GPU', { skip: addon.devices().some((d) => d.type === 'gpu' || d.type === 'igpu') }, () => {
  const { target } = testModelPair();
  for (const params of [{ targetGpuLayers: 2 }, { draftGpuLayers: 1 }, { vramBudgetMiB: 4096 }]) {
    test(`${JSON.stringify(params)} is refused with the build to use`, async () => {
      const engine = new addon.Engine();
      await assert.rejects(engine.load({ targetModelPath: target, ...params }),
        (e: Error & { code: number }) => e.code === -32602 && /SPECEXEC_BACKEND=vulkan/.test(e.message) &&
          /SPECEXEC_NATIVE_BUILD=build-vulkan/.test(e.message));
      engine.close();
    });
  }

  test('-1 (all) and 0 layers load on the CPU', async () => {
    const engine = new addon.Engine();
    const info = await engine.load({ targetModelPath: target, targetGpuLayers: -1, draftGpuLayers: 0 });
    assert.equal(info.offload.targetGpuLayers, 0);
    assert.deepEqual(info.offload.devices.map((d) => d.type), ['cpu']);
    engine.close();
  });
});
