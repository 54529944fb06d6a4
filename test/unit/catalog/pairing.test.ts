// Pairing the models found on disk (engine-native/catalog/pairing.ts, memory.ts): only pairs the
// engine's vocabulary check accepts, a draft at most a quarter of its target, the largest target
// that fits the RAM given (and, with a GPU, whose draft fits whole in its VRAM), base FIM models
// before instruct ones. Real small GGUFs with two tokenizers, scanned from a temp folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { vocabCompatible } from '../../../engine-native/catalog/fingerprint';
import {
  computeBytes,
  deviceBytes,
  DRAFT_BATCH,
  gpuBudgetBytes,
  kvCacheBytes,
  modelMemory,
  offloadSizes,
  targetBatch,
} from '../../../engine-native/catalog/memory';
import { groupByTokenizer, suggestPairs, type PairSuggestion } from '../../../engine-native/catalog/pairing';
import { scanModels, type CatalogModel } from '../../../engine-native/catalog/scan';
import { catalogModels, copyTo, vocabVariants } from '../../helpers/model-layouts';

const PLENTY = 1024 ** 4;

describe('catalog: pairing', () => {
  const files = { ...catalogModels(), padded128: vocabVariants().padded128, padded129: vocabVariants().padded129 };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specexec-pairing-'));
  let models: CatalogModel[];
  const model = (name: keyof typeof files) => models.find((m) => m.displayName === `${name}.gguf`)!;
  const names = (pairs: { draft: CatalogModel; target: CatalogModel }[]) =>
    pairs.map((p) => `${p.draft.displayName} -> ${p.target.displayName}`);

  before(async () => {
    for (const [name, file] of Object.entries(files)) copyTo(path.join(dir, `${name}.gguf`), file);
    const none: string[] = [];
    ({ models } = await scanModels({ roots: { huggingFace: none, llamaCpp: none, lmStudio: none, ollama: none, folders: [dir] } }));
    assert.equal(models.length, Object.keys(files).length);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('one pair per possible target, best first: base FIM targets by size, no FIM after, instruct last', () => {
    const pairs = suggestPairs(models, { availableBytes: PLENTY });
    assert.deepEqual(names(pairs), [
      'dsDraft.gguf -> dsLarge.gguf',
      'dsDraft.gguf -> dsTarget.gguf',
      'spmDraft.gguf -> spmTarget.gguf',
      'dsDraft.gguf -> dsInstruct.gguf',
    ]);
    assert.deepEqual(
      pairs.filter((p) => p.recommended).map((p) => p.target.displayName),
      ['dsLarge.gguf', 'spmTarget.gguf'],
      'the best of each tokenizer family',
    );
  });

  test('never a pair the engine would refuse, and every pair it would accept is considered', () => {
    const pairs = suggestPairs(models, { availableBytes: PLENTY });
    for (const p of pairs) assert.ok(vocabCompatible(p.draft.info.tokenizer, p.target.info.tokenizer), names([p])[0]);
    const targets = new Set(pairs.map((p) => p.target));
    for (const t of models) {
      const hasDraft = models.some(
        (d) => d !== t && d.info.parameters <= t.info.parameters / 4 && vocabCompatible(d.info.tokenizer, t.info.tokenizer),
      );
      assert.equal(targets.has(t), hasDraft, t.displayName);
    }
    assert.ok(!pairs.some((p) => p.draft === model('padded129') || p.target === model('padded129')), '129 tokens more than the others');
  });

  test('the target is the largest that fits the RAM given; the others say why not', () => {
    const all = suggestPairs(models, { availableBytes: PLENTY });
    const total = (target: string) => all.find((p) => p.target.displayName === target)!.totalBytes;
    const availableBytes = (total('dsTarget.gguf') + total('dsLarge.gguf')) / 2;
    const pairs = suggestPairs(models, { availableBytes });
    const ds = pairs.filter((p) => p.target.info.tokenizer.fingerprint === model('dsDraft').info.tokenizer.fingerprint);
    assert.deepEqual(
      ds.filter((p) => p.recommended).map((p) => p.target.displayName),
      ['dsTarget.gguf'],
    );
    const large = ds.find((p) => p.target === model('dsLarge'))!;
    assert.equal(large.fits, false);
    assert.ok(
      large.warnings.some((w) => /^Needs \d+\.\d GiB of RAM/.test(w)),
      large.warnings.join(' '),
    );
    const fits = pairs.map((p) => p.fits);
    assert.deepEqual(
      fits,
      [...fits].sort((a, b) => Number(b) - Number(a)),
      'the pairs that fit come first',
    );
    assert.equal(suggestPairs(models, { availableBytes: 0 }).filter((p) => p.recommended).length, 0, 'nothing fits in no RAM');
  });

  test('a draft is at most a quarter of its target (or the share asked for)', () => {
    for (const p of suggestPairs(models, { availableBytes: PLENTY })) assert.ok(p.draft.info.parameters <= p.target.info.parameters / 4);
    const targets = (share: number) =>
      suggestPairs(models, { availableBytes: PLENTY, maxDraftShare: share }).map((p) => p.target.displayName);
    // the tiny draft is 0.236 of the small targets and 0.110 of the large ones
    assert.deepEqual(targets(0.2).sort(), ['dsInstruct.gguf', 'dsLarge.gguf']);
    assert.deepEqual(targets(0.1), []);
  });

  test('instruct targets and targets without FIM tokens are flagged', () => {
    const pairs = suggestPairs(models, { availableBytes: PLENTY });
    const warnings = (target: string) => pairs.find((p) => p.target.displayName === target)!.warnings.join(' ');
    assert.match(warnings('dsInstruct.gguf'), /instruct\/chat model/);
    assert.match(warnings('spmTarget.gguf'), /no fill-in-the-middle tokens/);
    assert.equal(warnings('dsLarge.gguf'), '');
  });

  test("memory: the file, an F32 KV cache at the context size, the engine's compute estimate", () => {
    const large = model('dsLarge').info; // 2 layers, 2 KV heads of 64, 4 heads, 256 wide, FFN 512, 32256 tokens
    assert.equal(kvCacheBytes(large, 4096), 4 * 4096 * (2 * 2) * (64 + 64));
    assert.equal(kvCacheBytes(large, 8192), 2 * kvCacheBytes(large, 4096));
    assert.equal(computeBytes(large, 4096, 1025), 4 * 1025 * (32256 + 4 * 256), 'the logits are the widest');
    assert.equal(computeBytes(large, 16384, 1025), 4 * 1025 * (4 * 16384 + 4 * 256), 'the attention scores are');
    assert.equal(targetBatch(1024), 1025);
    assert.equal(targetBatch(100), 512);
    const pair = suggestPairs(models, { availableBytes: PLENTY, contextSize: 2048, maxBudget: 255 })[0];
    assert.deepEqual(pair.targetMemory, modelMemory(large, 2048, 512));
    assert.deepEqual(pair.draftMemory, modelMemory(model('dsDraft').info, 2048, DRAFT_BATCH));
    assert.equal(pair.targetMemory.weights, large.sizeBytes);
    assert.equal(pair.totalBytes, pair.draftMemory.total + pair.targetMemory.total);
  });

  describe('with a GPU', () => {
    const ds = (pairs: PairSuggestion[]) => pairs.filter((p) => p.draft === model('dsDraft'));
    const sizes = (name: keyof typeof files, batch: number) =>
      offloadSizes(model(name).info.tensorSizes, model(name).info.layout.heads, 4096, batch);
    const draftWhole = () => deviceBytes(sizes('dsDraft', DRAFT_BATCH), -1);
    const pairFor = (pairs: PairSuggestion[], target: string) => pairs.find((p) => p.target.displayName === target)!;

    test('plenty of VRAM: every layer on the GPU, and the RAM needed is what stays off it', () => {
      const pair = pairFor(suggestPairs(models, { availableBytes: PLENTY, vramBytes: PLENTY }), 'dsLarge.gguf');
      assert.deepEqual(
        pair.gpu && [pair.gpu.draftLayers, pair.gpu.draftLayerCount, pair.gpu.targetLayers, pair.gpu.targetLayerCount],
        [2, 2, 3, 3],
      );
      assert.equal(pair.ramBytes, pair.totalBytes - pair.gpu!.deviceBytes + pair.draftMemory.compute + pair.targetMemory.compute);
      // the CPU's compute buffers stay (the tiny test models' are most of their memory)
      assert.ok(pair.ramBytes < pair.totalBytes && pair.ramBytes >= pair.draftMemory.compute + pair.targetMemory.compute);
      assert.equal(suggestPairs(models, { availableBytes: PLENTY })[0].gpu, null, 'no VRAM budget: no placement');
      assert.equal(
        suggestPairs(models, { availableBytes: PLENTY })[0].ramBytes,
        suggestPairs(models, { availableBytes: PLENTY })[0].totalBytes,
      );
    });

    test('the recommended target is the largest whose scratch leaves room for the whole draft', () => {
      // room for the draft beside dsTarget's scratch (512 wide), not beside dsLarge's (1024 wide)
      const vramBytes = draftWhole() + sizes('dsTarget', targetBatch()).computeBytes;
      assert.ok(vramBytes < draftWhole() + sizes('dsLarge', targetBatch()).computeBytes);
      const pairs = ds(suggestPairs(models, { availableBytes: PLENTY, vramBytes }));
      assert.deepEqual(
        pairs.filter((p) => p.recommended).map((p) => p.target.displayName),
        ['dsTarget.gguf'],
      );
      const large = pairFor(pairs, 'dsLarge.gguf');
      assert.equal(large.fits, false);
      assert.ok(large.gpu!.draftLayers < large.gpu!.draftLayerCount);
      assert.match(large.warnings.join(' '), /Only \d of the draft's 2 layers fit in .* GiB of VRAM beside the target's scratch/);
      assert.equal(pairFor(pairs, 'dsTarget.gguf').gpu!.targetLayers, 0, 'no room left for target layers: the target runs from RAM');
    });

    test('layers on the GPU lower the RAM a pair needs: one that fits only with them', () => {
      const withGpu = pairFor(suggestPairs(models, { availableBytes: PLENTY, vramBytes: PLENTY }), 'dsLarge.gguf');
      const availableBytes = withGpu.ramBytes;
      assert.equal(pairFor(suggestPairs(models, { availableBytes }), 'dsLarge.gguf').fits, false);
      assert.equal(pairFor(suggestPairs(models, { availableBytes, vramBytes: PLENTY }), 'dsLarge.gguf').fits, true);
    });

    test("the VRAM budget: the setting, else the largest GPU's free memory; none without a GPU", () => {
      const device = (type: 'cpu' | 'gpu' | 'igpu', memoryFree: number) => ({
        name: type,
        description: '',
        type,
        memoryFree,
        memoryTotal: 2 * memoryFree,
      });
      assert.equal(gpuBudgetBytes([device('cpu', 64e9)]), 0);
      assert.equal(gpuBudgetBytes([device('cpu', 64e9)], 4096), 0, 'a CPU build refuses a VRAM budget: plan for RAM');
      assert.equal(gpuBudgetBytes([device('cpu', 64e9), device('gpu', 8e9), device('igpu', 12e9)]), 12e9);
      assert.equal(gpuBudgetBytes([device('gpu', 8e9)], 4096), 4096 * 1024 ** 2);
    });
  });

  test('groups by tokenizer fingerprint, largest first', () => {
    const groups = groupByTokenizer(models).map((g) => [g.vocabType, g.tokenCount, g.models.map((m) => m.displayName)]);
    assert.deepEqual(groups.sort(), [
      ['bpe', 32256, ['dsInstruct.gguf', 'dsLarge.gguf', 'dsTarget.gguf', 'dsDraft.gguf']],
      ['bpe', 32384, ['padded128.gguf']],
      ['bpe', 32385, ['padded129.gguf']],
      ['spm', 32000, ['spmTarget.gguf', 'spmDraft.gguf']],
    ]);
  });
});
