// The model catalogue's reading of a GGUF and its vocabulary rule (engine-native/catalog/) against
// the real engine: what inspectModel reports is what the header reader says, and the engine
// accepts exactly the draft/target pairs that vocabCompatible accepts (each clause of its check
// probed by a model that breaks only that clause); and the GPU placement that pairing plans
// (memory.ts) is the one the engine's offload code chooses, for the same files and budgets.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { vocabCompatible, vocabMismatch } from '../../engine-native/catalog/fingerprint';
import { chooseOffload, DRAFT_BATCH, offloadSizes, targetBatch } from '../../engine-native/catalog/memory';
import { readModelInfo, type GgufModelInfo } from '../../engine-native/catalog/model-info';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { ErrorCodes, type ModelInfo } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { catalogModels, otherTokenizers, splitModel, vocabVariants } from '../helpers/model-layouts';
import { testModelPair } from '../helpers/models';
import { testingAddon } from '../helpers/testing-addon';

/** The fields both describe, from the catalogue's side. */
function catalogView(info: GgufModelInfo) {
  const t = info.tokenizer;
  return {
    architecture: info.architecture,
    name: info.name,
    parameters: info.parameters,
    sizeBytes: info.sizeBytes,
    layers: info.layout.layers,
    embeddingSize: info.layout.embedding,
    trainedContext: info.trainedContext,
    vocabSize: t.tokenCount,
    vocabType: t.vocabType,
    addBos: t.addBos,
    bos: t.bos,
    eos: t.eos,
    fim: t.fim,
    chatTemplate: info.chatTemplate,
  };
}

function engineView(m: ModelInfo): ReturnType<typeof catalogView> {
  return {
    architecture: m.architecture,
    name: m.name,
    parameters: m.parameters,
    sizeBytes: m.sizeBytes,
    layers: m.layers,
    embeddingSize: m.embeddingSize,
    trainedContext: m.trainedContext,
    vocabSize: m.vocabSize,
    vocabType: m.vocabType,
    addBos: m.addBos,
    bos: m.specialTokens.bos,
    eos: m.specialTokens.eos,
    fim: m.fim,
    chatTemplate: m.chatTemplate !== null,
  };
}

describe('engine: the model catalogue agrees with the engine', () => {
  const models = catalogModels();
  const variants = vocabVariants();
  const others = otherTokenizers();
  let engine: EngineClient;

  before(() => {
    engine = startEngine();
  });
  after(async () => engine.shutdown());

  test('inspectModel reports what the header reader reads, for five tokenizers', async () => {
    for (const file of [models.dsTarget, models.dsInstruct, models.spmDraft, variants.noAddBos, ...Object.values(others)]) {
      assert.deepEqual(catalogView(await readModelInfo(file)), engineView(await engine.inspectModel(file)), path.basename(file));
    }
  });

  /** Whether the engine loads the pair; a refusal must be VocabMismatch. */
  async function engineAccepts(draft: string, target: string): Promise<boolean> {
    try {
      await engine.initialize({ targetModelPath: target, draftModelPath: draft, threads: 2, contextSize: 256, maxBudget: 16 });
      return true;
    } catch (e) {
      assert.ok(e instanceof ResponseError && e.code === ErrorCodes.VocabMismatch, String(e));
      return false;
    }
  }

  const pairs: [string, () => [string, string]][] = [
    ['the same tokenizer', () => [models.dsDraft, models.dsTarget]],
    ['token 4 renamed (not compared)', () => [variants.token4Renamed, models.dsTarget]],
    ['token 5 renamed', () => [variants.token5Renamed, models.dsTarget]],
    ['the last token renamed', () => [variants.lastTokenRenamed, models.dsTarget]],
    ['128 more tokens in the draft', () => [variants.padded128, models.dsTarget]],
    ['129 more tokens in the draft', () => [variants.padded129, models.dsTarget]],
    ['129 fewer tokens in the draft', () => [models.dsDraft, variants.padded129]],
    ['128 tokens more, and the last shared token renamed', () => [variants.padded128, variants.lastTokenRenamed]],
    ['add_bos off', () => [variants.noAddBos, models.dsTarget]],
    ['another EOS', () => [variants.otherEos, models.dsTarget]],
    ['an SPM tokenizer', () => [models.spmDraft, models.dsTarget]],
    ["StarCoder's tokenizer", () => [others.starcoder, models.dsTarget]],
    ["Qwen2's, 128 tokens apart (as Qwen2.5-Coder 0.5B and 7B)", () => [others.qwen2Padded128, others.qwen2]],
  ];
  test(`the engine accepts exactly the pairs vocabCompatible accepts (${pairs.length} pairs)`, async () => {
    const verdicts: string[] = [];
    for (const [name, files] of pairs) {
      const [draft, target] = files();
      const [d, t] = await Promise.all([readModelInfo(draft), readModelInfo(target)]);
      const expected = vocabCompatible(d.tokenizer, t.tokenizer);
      assert.equal(
        await engineAccepts(draft, target),
        expected,
        `${name}: the catalogue says ${vocabMismatch(d.tokenizer, t.tokenizer) ?? 'compatible'}`,
      );
      verdicts.push(`${name}: ${expected}`);
    }
    // both verdicts occur, for each clause of the check
    assert.deepEqual(verdicts, [
      'the same tokenizer: true',
      'token 4 renamed (not compared): true',
      'token 5 renamed: false',
      'the last token renamed: false',
      '128 more tokens in the draft: true',
      '129 more tokens in the draft: false',
      '129 fewer tokens in the draft: false',
      '128 tokens more, and the last shared token renamed: false',
      'add_bos off: false',
      'another EOS: false',
      'an SPM tokenizer: false',
      "StarCoder's tokenizer: false",
      "Qwen2's, 128 tokens apart (as Qwen2.5-Coder 0.5B and 7B): true",
    ]);
  });
});

describe("engine: the GPU placement pairing plans is the engine's", () => {
  // in this process: the engine's offload arithmetic itself (src/offload.cpp), no GPU needed
  const { testing } = testingAddon();
  const models = catalogModels();
  const { draft: untiedDraft, target: untiedTarget } = testModelPair();
  const padded = vocabVariants().padded128;
  const MIB = 1024 ** 2;

  const sizesOf = async (file: string, contextSize: number, batch: number) => {
    const info = await readModelInfo(file);
    return offloadSizes(info.tensorSizes, info.layout.heads, contextSize, batch);
  };

  test('tensor sizes: tied and untied heads, a padded vocabulary, a split model, two contexts and batches', async () => {
    const files = [models.dsDraft, models.dsLarge, models.spmTarget, padded, splitModel(), untiedDraft, untiedTarget];
    for (const file of files)
      for (const [contextSize, batch] of [
        [256, DRAFT_BATCH],
        [16384, targetBatch(1024)],
      ]) {
        assert.deepEqual(await sizesOf(file, contextSize, batch), testing.offloadSizes(file, contextSize, batch), path.basename(file));
      }
  });

  test('the layers chosen for a budget, from nothing placed to everything', async () => {
    for (const [draftFile, targetFile] of [
      [models.dsDraft, models.dsLarge],
      [untiedDraft, untiedTarget],
    ]) {
      const draft = await sizesOf(draftFile, 4096, DRAFT_BATCH);
      const target = await sizesOf(targetFile, 4096, targetBatch());
      const seen = new Set<string>();
      for (let mib = 0; mib <= 512; mib += 2) {
        const ours = chooseOffload(draft, target, mib * MIB);
        assert.deepEqual(ours, testing.offloadChoose(draft, target, mib * MIB), `${path.basename(targetFile)} at ${mib} MiB`);
        assert.deepEqual(chooseOffload(null, target, mib * MIB), testing.offloadChoose(null, target, mib * MIB));
        seen.add(`${ours.draftLayers}/${ours.targetLayers}`);
      }
      // the sweep went through partial placements, not only none and all
      assert.ok(seen.size >= 4, [...seen].join(' '));
    }
  });
});
