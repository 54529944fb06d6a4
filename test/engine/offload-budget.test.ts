// The automatic budget on synthetic cost curves (a flat GPU-like curve grows the tree, a CPU-like
// one keeps it small), the arithmetic that turns a VRAM budget into GPU layers, the sizes it reads
// from a GGUF, and the error a CPU build gives when asked for GPU layers. CPU build; fast.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testingAddon, type OffloadSizes } from '../helpers/testing-addon';
import type { CostPoint } from '../../engine-native/host/protocol';
import { testModelPair } from '../helpers/models';

const addon = testingAddon();
const { testing } = addon;
const MIB = 1024 * 1024;
const BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

function curve(ms: (n: number) => number, batches = BATCHES): CostPoint[] {
  return batches.map((batch) => ({ batch, ms: ms(batch) }));
}

/** The batches the engine calibrates at. */
const CALIBRATED = [1, 2, 4, 8, 16];

/** A measured cost curve: `ms[i]` at `batches[i]`. */
function measured(batches: number[], ms: number[]): CostPoint[] {
  assert.equal(ms.length, batches.length);
  return batches.map((batch, i) => ({ batch, ms: ms[i] }));
}

/** The automatic budget's first choice (no round observed yet) and its expected rates. */
function firstChoice(draft: CostPoint[], target: CostPoint[], limit = 1024) {
  const learner = testing.budgetLearner({ draft, target, maxBudget: 1024 });
  return { budget: learner.choose(limit), rates: learner.rates(), learner };
}

describe("the cost model the benchmark predicts with is the engine's", () => {
  test('linear between calibration points, clamped to its points below the first', () => {
    assert.deepEqual(addon.passCost(measured([1, 4, 16], [1, 2, 10]), [1, 2, 4, 10, 16]), [1, 4 / 3, 2, 6, 10]);
  });
  test('beyond the last point: linear from the last two, never cheaper than the last point', () => {
    assert.equal(addon.passCost(measured([1, 4, 16], [1, 2, 10]), [32])[0], 10 + 16 * (8 / 12));
    assert.equal(addon.passCost(measured([1, 8], [5, 4]), [16])[0], 4); // a noisy curve that falls
  });
});

describe('automatic budget on synthetic cost curves', () => {
  // a draft on the GPU: a pass costs 2 ms for any batch up to the 128 beams
  const draft = curve(() => 2, [1, 2, 4, 8, 16, 32, 64, 128]);

  test('a flat target curve (offloaded weights: cost(1) ~ cost(512)) grows the tree to hundreds', () => {
    const target = curve((n) => 400 + 0.05 * n); // 400 ms at 1 token, 425.6 ms at 512
    const r = firstChoice(draft, target);
    assert.ok(r.budget >= 255, `chose ${r.budget}: ${JSON.stringify(r.rates)}`);
    // and it is the rate's maximum, not a default
    const best = Math.max(...r.rates.map((x) => x.tokensPerMs));
    assert.equal(r.rates.find((x) => x.budget === r.budget)!.tokensPerMs, best);
  });

  test('the same flat curve under a smaller limit takes the limit', () => {
    assert.equal(
      firstChoice(
        draft,
        curve((n) => 400 + 0.05 * n),
        64,
      ).budget,
      63,
    ); // trees of 2^n - 1 nodes
  });

  test('a CPU-like curve (cost grows with the batch from the first token) keeps the tree small', () => {
    const target = curve((n) => 10 * n); // compute-bound: twice the tokens, twice the time
    const cpuDraft = curve((n) => 3 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
    const r = firstChoice(cpuDraft, target);
    assert.ok(r.budget <= 4, `chose ${r.budget}: ${JSON.stringify(r.rates)}`);
  });
});

describe('a stale draft catches up only when it pays', () => {
  // a draft behind by a whole long prompt must prefill it before drafting (it stays behind while
  // rounds go without it); that pays for many tokens to come, not for a few
  const target = curve((n) => 100 + 5 * n);
  const draft = curve((n) => 1 + 0.1 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
  const { budget, learner } = firstChoice(draft, target);

  test('drafting pays on this curve', () => assert.ok(budget > 0));
  test('a draft 4,000 tokens behind is not brought up to date for 2 tokens', () =>
    assert.equal(learner.catchUpPays(budget, 4000, 2), false));
  test('it is for 100 tokens, and a few tokens behind always are', () => {
    assert.equal(learner.catchUpPays(budget, 4000, 100), true);
    assert.equal(learner.catchUpPays(budget, 3, 2), true);
  });

  test('a few tokens behind are caught up even while no draft leads, so that budgets get tried again', () => {
    const unlucky = testing.budgetLearner({ draft, target: curve((n) => 50 + 12 * n), maxBudget: 1024 });
    // budget 1 rejected its token four times in a row: budget 0 leads now
    for (let i = 0; i < 4; i++) unlucky.observe({ budget: 1, tokensWithin: [1, 1], otherMs: 3, targetMs: 74, treeNodes: 1 });
    assert.equal(unlucky.choose(1024), 0);
    assert.equal(unlucky.catchUpPays(1, 3, 20), true);
    assert.equal(unlucky.catchUpPays(1, 4000, 20), false);
  });
});

describe('one round measures every smaller budget', () => {
  // root 0; 1 (score -1) -> 2 (-3) -> 4 (-6); 0 -> 3 (-2) -> 5 (-4)
  const tree = { tokens: [10, 11, 12, 13, 14, 15], parents: [-1, 0, 1, 0, 2, 3], scores: [0, -1, -3, -2, -6, -4] };

  test('the accepted path counts while its nodes are among the best k', () => {
    // accepted 1 -> 2 -> 4: ranks 0, 2, 4 (by score: 1, 3, 2, 5, 4)
    assert.deepEqual(testing.tokensWithin(tree, [1, 2, 4], [0, 1, 2, 3, 4, 5]), [1, 2, 2, 3, 3, 4]);
    // the other branch: 3 (rank 1) -> 5 (rank 3)
    assert.deepEqual(testing.tokensWithin(tree, [3, 5], [0, 1, 2, 3, 4]), [1, 1, 2, 2, 3]);
    assert.deepEqual(testing.tokensWithin(tree, [], [0, 3]), [1, 1]);
  });
});

/**
 * A seeded simulation of `auto` against every fixed budget, driven as the engine drives it: each
 * round's accepted depth is drawn from a geometric distribution (continuation probability q) and a
 * tree of budget k reaches depth log2(1 + k) (best-first trees are bushy near the root), so a round
 * measures all smaller budgets as the engine's trees do. Completions of `generation` tokens follow
 * prompts of `prompt` new tokens: the draft starts each one behind by the prompt, falls behind by
 * every round that goes without it, and catches up (in passes of its largest batch) before the next
 * round that drafts, unless `auto` judges that not worth it and runs the round without the draft.
 * Rounds cost the cost curves' passes, as `auto` models them, or `truth`'s when the calibration is
 * stale; the timings `auto` observes are off by up to +-`noise`. Pure logic.
 */
function simulate(
  draft: CostPoint[],
  target: CostPoint[],
  q: number,
  generations: number,
  seed: number,
  {
    truth = target,
    noise = 0,
    prompt = 300,
    generation = 48,
  }: { truth?: CostPoint[]; noise?: number; prompt?: number; generation?: number } = {},
) {
  const learner = testing.budgetLearner({ draft, target, maxBudget: 1024 });
  const chosen = new Map<number, number>(); // the rounds `auto` ran at each budget
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const depths = Array.from({ length: generations * generation }, () => {
    let depth = 0;
    while (random() < q && depth < 32) depth++;
    return depth;
  });
  // the curves are the truth here: piecewise linear, beyond the last point with the last slope
  const at = (c: CostPoint[], n: number) => {
    const above = c.findIndex((p) => p.batch >= n);
    const i = Math.max(1, above < 0 ? c.length - 1 : above);
    const [a, b] = [c[i - 1], c[i]];
    return n <= a.batch ? a.ms : a.ms + ((n - a.batch) / (b.batch - a.batch)) * (b.ms - a.ms);
  };
  const top = draft[draft.length - 1].batch;
  const catchUpMs = (stale: number) => Math.floor(stale / top) * at(draft, top) + (stale % top > 0 ? at(draft, stale % top) : 0);
  const reach = (k: number) => Math.floor(Math.log2(1 + k));
  const roundMs = (k: number) => at(truth, k + 1) + (k === 0 ? 0 : (reach(k) + 1) * at(draft, Math.max(1, k)));
  const jitter = () => 1 + noise * (2 * random() - 1);
  const yielded = (k: number, depth: number) => 1 + Math.min(depth, reach(k));
  // tokens per ms over all completions, with a fixed budget or (none given) with `auto`
  const run = (fixed?: number) => {
    let tokens = 0,
      ms = 0,
      round = 0;
    for (let g = 0; g < generations; g++) {
      let stale = prompt;
      for (let remaining = generation; remaining > 0;) {
        const depth = depths[round++];
        let k = fixed ?? learner.choose(1024);
        if (fixed === undefined && stale > 0 && !learner.catchUpPays(k, stale, remaining)) k = 0;
        if (fixed === undefined) chosen.set(k, (chosen.get(k) ?? 0) + 1);
        if (k > 0) {
          ms += catchUpMs(stale);
          stale = 0;
        }
        const n = Math.min(remaining, yielded(k, depth));
        if (fixed === undefined) {
          const tokensWithin = learner.candidates.filter((c) => c <= k).map((c) => yielded(c, depth));
          const targetMs = at(truth, k + 1);
          learner.observe({
            budget: k,
            tokensWithin,
            otherMs: (roundMs(k) - targetMs) * jitter(),
            targetMs: targetMs * jitter(),
            treeNodes: k,
          });
        }
        stale += k === 0 ? n : 0;
        remaining -= n;
        tokens += n;
        ms += roundMs(k);
      }
    }
    return tokens / ms;
  };
  const auto = run();
  const fixed = learner.candidates.map((k) => ({ budget: k, tokensPerMs: run(k) }));
  const best = fixed.reduce((a, b) => (b.tokensPerMs > a.tokensPerMs ? b : a));
  const share = (k: number) => (chosen.get(k) ?? 0) / [...chosen.values()].reduce((a, b) => a + b);
  return { auto, best, autoregressive: fixed[0].tokensPerMs, share };
}

describe('auto learns the best budget (seeded simulation)', () => {
  // the grown 1.1B target's calibration on this 2-core machine, and the bundled draft's
  const cpuTarget = measured(CALIBRATED, [69, 92, 131, 210, 409]);
  const cpuDraft = curve((n) => 1 + 0.05 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
  const gpuTarget = curve((n) => 400 + 0.05 * n);
  const cases: [string, CostPoint[], CostPoint[], number][] = [
    ['CPU target, a well-matched draft', cpuDraft, cpuTarget, 0.55],
    ['CPU target, a poor draft (speculation does not pay)', cpuDraft, cpuTarget, 0.15],
    ['CPU target, an expensive draft', curve((n) => 30 + n, [1, 2, 4, 8, 16, 32, 64, 128]), cpuTarget, 0.55],
    ['offloaded target (flat curve)', curve(() => 2, [1, 2, 4, 8, 16, 32, 64, 128]), gpuTarget, 0.8],
  ];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  /**
   * Runs `simulated` for seeds 1 to 40: at every seed `auto` gets at least `worst.best` of the best fixed
   * budget's rate (and `worst.none` of no draft's, when given), on average `average` of it. Returns the runs.
   */
  function assertAutoOverSeeds(
    simulated: (seed: number) => ReturnType<typeof simulate>,
    worst: { best: number; none?: number },
    average: number,
  ): ReturnType<typeof simulate>[] {
    const runs = [];
    for (let seed = 1; seed <= 40; seed++) {
      const r = simulated(seed);
      assert.ok(
        r.auto >= worst.best * r.best.tokensPerMs && (worst.none === undefined || r.auto >= worst.none * r.autoregressive),
        `seed ${seed}: auto ${(r.auto * 1000).toFixed(2)} tok/s, best fixed (${r.best.budget}) ${(r.best.tokensPerMs * 1000).toFixed(2)}, ` +
          `autoregressive ${(r.autoregressive * 1000).toFixed(2)}`,
      );
      runs.push(r);
    }
    const vsBest = runs.map((r) => r.auto / r.best.tokensPerMs);
    assert.ok(mean(vsBest) >= average, `mean ${mean(vsBest).toFixed(3)} of the best fixed budget`);
    return runs;
  }
  for (const [name, draft, target, q] of cases) {
    test(`${name}: 95% of the best fixed budget on average over 6 completions, never below 85% or 95% of no draft`, () => {
      assertAutoOverSeeds((seed) => simulate(draft, target, q, 6, seed), { best: 0.85, none: 0.95 }, 0.95);
    });
  }

  // The grown target in a full benchmark run: budgets 0 and 1 within 1% of each other, passes a
  // third dearer than at start-up, timings off by up to 30%. Exploring larger budgets must not cost
  // what the close call cannot win back.
  test('a stale calibration and noisy timings, budgets 0 and 1 even: within 7% of both, 3% on average', () => {
    const now = measured(CALIBRATED, [90, 127, 179, 280, 490]);
    const startUp = measured(CALIBRATED, [71, 91, 120, 181, 330]);
    const draft = curve((n) => 2 + 0.05 * n, [1, 2, 4, 8, 16, 32, 64, 128]);
    assertAutoOverSeeds((seed) => simulate(draft, startUp, 0.48, 10, seed, { truth: now, noise: 0.3 }), { best: 0.93, none: 0.93 }, 0.97);
  });

  // The grown target in the full benchmark run of 2026-11-25: budget 1 worth 7% over none, every
  // completion on a new file (the draft 300 tokens behind). While budget 0 led, the draft stayed
  // behind for the whole completion and `auto` never brought it up to date to try budget 1 again,
  // which its first few (unlucky) rounds had underrated: 375 of 376 rounds went without the draft
  // (here: a quarter of the rounds at budget 1 in the median seed).
  test('budget 1 a little ahead, the draft behind by each new prompt: auto settles on budget 1', () => {
    const now = measured(CALIBRATED, [48.8, 65.5, 102, 178, 330]);
    const startUp = measured(CALIBRATED, [44.9, 60.9, 94.3, 166, 306]);
    const draft = measured([1, 2, 4, 8, 16, 32, 64, 128], [1.4, 1.4, 1.67, 2.13, 3.58, 5.63, 10.3, 20.5]);
    const runs = assertAutoOverSeeds((seed) => simulate(draft, startUp, 0.48, 12, seed, { truth: now, noise: 0.3 }), { best: 0.92 }, 0.98);
    const share = runs.map((r) => r.share(1)).sort((a, b) => a - b);
    assert.ok(share[20] >= 0.5, `budget 1 in ${(100 * share[20]).toFixed(0)}% of the rounds (median seed)`);
  });
});

describe('VRAM budget -> GPU layers', () => {
  // llama.cpp's count: n_layer blocks + the output head, offloaded from the top
  const target: OffloadSizes = {
    layerBytes: Array(10).fill(100 * MIB),
    outputBytes: 50 * MIB,
    kvLayerBytes: 10 * MIB,
    computeBytes: 200 * MIB,
  };
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
      await assert.rejects(
        engine.load({ targetModelPath: target, ...params }),
        (e: Error & { code: number }) =>
          e.code === -32602 && /SPECEXEC_BACKEND=vulkan/.test(e.message) && /SPECEXEC_NATIVE_BUILD=build-vulkan/.test(e.message),
      );
      engine.close();
    });
  }

  test('-1 (all) and 0 layers load on the CPU', async () => {
    const engine = new addon.Engine();
    const info = await engine.load({ targetModelPath: target, targetGpuLayers: -1, draftGpuLayers: 0 });
    assert.equal(info.offload.targetGpuLayers, 0);
    assert.deepEqual(
      info.offload.devices.map((d) => d.type),
      ['cpu'],
    );
    engine.close();
  });
});
