// GGUF headers read without the tensors (engine-native/catalog/gguf-header.ts, model-info.ts) and
// the tokenizer fingerprint with the engine's compatibility rule (fingerprint.ts), on real GGUFs:
// llama.cpp's vocab files and small models from make_test_model.py. Broken files give a reason.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { readTokenizer, vocabCompatible, vocabMismatch, type Tokenizer } from '../../../engine-native/catalog/fingerprint';
import { GgufError, readGgufHeader } from '../../../engine-native/catalog/gguf-header';
import { readModelInfo } from '../../../engine-native/catalog/model-info';
import { catalogModels, splitModel, vocabPath, vocabVariants } from '../../helpers/model-layouts';

const tokenizerOf = async (file: string): Promise<Tokenizer> => (await readModelInfo(file)).tokenizer;

describe('catalog: GGUF headers', () => {
  const models = catalogModels();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specexec-gguf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // what llama.cpp's llama-vocab.cpp makes of each file (the engine test checks the same against the engine)
  const vocabs: [string, Partial<Tokenizer>][] = [
    [
      'deepseek-coder',
      {
        vocabType: 'bpe',
        tokenCount: 32256,
        bos: 32013,
        eos: 32014,
        addBos: true,
        fim: { prefix: 32016, suffix: 32015, middle: 32017, repo: null, fileSeparator: null },
      },
    ],
    [
      'starcoder',
      {
        vocabType: 'bpe',
        tokenCount: 49152,
        bos: 0,
        eos: 0,
        addBos: false,
        fim: { prefix: 1, suffix: 3, middle: 2, repo: null, fileSeparator: null },
        repoFim: false,
      },
    ],
    ['llama-bpe', { vocabType: 'bpe', tokenCount: 128256, bos: 128000, eos: 128001, addBos: true, fim: null }],
    ['qwen2', { vocabType: 'bpe', tokenCount: 151936, bos: 151643, eos: 151643, addBos: false, fim: null }],
    ['llama-spm', { vocabType: 'spm', tokenCount: 32000, bos: 1, eos: 2, addBos: true, fim: null }],
  ];
  for (const [name, expected] of vocabs) {
    test(`the ${name} tokenizer as llama.cpp resolves it (defaults, FIM tokens by text)`, async () => {
      const tokenizer = readTokenizer(await readGgufHeader(vocabPath(name)));
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(tokenizer[key as keyof Tokenizer], value, key);
    });
  }

  test("a model's metadata: name, finetune, quantisation, context, shape; parameters are the tensors' elements", async () => {
    const info = await readModelInfo(models.dsInstruct);
    const [embd, ff, kvDim, vocab] = [256, 512, 2 * 64, 32256];
    const perLayer = 2 * embd + 2 * embd * embd + 2 * kvDim * embd + 3 * ff * embd;
    assert.equal(info.parameters, vocab * embd + 2 * perLayer + embd);
    assert.equal(info.sizeBytes, statSync(models.dsInstruct).size);
    assert.deepEqual(
      {
        architecture: info.architecture,
        name: info.name,
        finetune: info.finetune,
        quantization: info.quantization,
        trainedContext: info.trainedContext,
      },
      { architecture: 'llama', name: 'DeepSeek Test Large', finetune: 'Instruct', quantization: 'Q8_0', trainedContext: 4096 },
    );
    assert.deepEqual(info.layout, {
      layers: 2,
      heads: 4,
      kvHeadsAllLayers: 4,
      embedding: 256,
      keyLength: 64,
      valueLength: 64,
      feedForward: 512,
    });
    assert.equal(info.chatTemplate, false);
    assert.equal(info.splitCount, 1);
  });

  test('a split model: its first shard stands for all of it; a missing shard is named', async () => {
    const first = splitModel();
    const second = first.replace('-00001-of-', '-00002-of-');
    const info = await readModelInfo(first);
    assert.equal(info.splitCount, 2);
    assert.equal(info.sizeBytes, statSync(first).size + statSync(second).size);
    assert.equal(info.parameters, (await readModelInfo(models.dsDraft)).parameters, 'the same shape as the unsplit tiny model');
    const lonely = path.join(dir, path.basename(first));
    copyFileSync(first, lonely);
    await assert.rejects(
      readModelInfo(lonely),
      (e: unknown) => e instanceof GgufError && /split model: .*-00002-of-00002\.gguf is missing/.test(e.message),
    );
  });

  const good = () => readFileSync(models.dsDraft);
  const broken: [string, () => Buffer | string, RegExp][] = [
    ['an empty file', () => '', /^empty or truncated \(0 bytes\), not a GGUF model$/],
    ['an HTML page saved as .gguf', () => '<html>Not Found</html>\n'.repeat(20), /not a GGUF model file \(wrong magic bytes\)/],
    ['GGUF v1', () => withUint32(good(), 4, 1), /unsupported GGUF version 1$/],
    ['a big-endian GGUF', () => withUint32(good(), 4, 0x03000000), /unsupported GGUF version 50331648 \(a big-endian file/],
    ['an absurd tensor count', () => withUint64(good(), 8, 1n << 40n), /corrupt GGUF header \(1099511627776 tensors/],
    [
      'a download cut inside the metadata',
      () => good().subarray(0, 100_000),
      /truncated GGUF file: its metadata runs past the end of the file/,
    ],
    [
      'a download cut inside the tensors',
      () => good().subarray(0, Math.floor(good().length * 0.6)),
      /truncated GGUF file: its tensors need \d+ bytes but the file has \d+/,
    ],
    ['damaged metadata', () => Buffer.from(good()).fill(0xff, 24, 4000), /corrupt GGUF metadata/],
    ['a vocabulary-only GGUF', () => readFileSync(vocabPath('deepseek-coder')), /the file holds a vocabulary only, no weights/],
  ];
  for (const [name, bytes, reason] of broken) {
    test(`${name} is refused with a reason`, async () => {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
      writeFileSync(file, bytes());
      await assert.rejects(readModelInfo(file), (e: unknown) => e instanceof GgufError && reason.test(e.message));
    });
  }
});

describe('catalog: tokenizer fingerprints follow the engine rule', () => {
  const models = catalogModels();
  const variants = vocabVariants();

  test('one tokenizer: one fingerprint, compatible both ways', async () => {
    const [draft, target, large] = await Promise.all([models.dsDraft, models.dsTarget, models.dsLarge].map(tokenizerOf));
    assert.equal(draft.fingerprint, target.fingerprint);
    assert.equal(draft.fingerprint, large.fingerprint);
    assert.ok(vocabCompatible(draft, target) && vocabCompatible(target, draft));
  });

  test('tokens below id 5 are not compared; from id 5 to the last they are', async () => {
    const base = await tokenizerOf(models.dsDraft);
    const token4 = await tokenizerOf(variants.token4Renamed);
    assert.equal(token4.fingerprint, base.fingerprint);
    assert.equal(vocabMismatch(token4, base), null);
    for (const file of [variants.token5Renamed, variants.lastTokenRenamed]) {
      const renamed = await tokenizerOf(file);
      assert.notEqual(renamed.fingerprint, base.fingerprint);
      assert.equal(vocabMismatch(renamed, base), 'token texts differ between ids 5 and 32255');
    }
  });

  test('vocabulary sizes may differ by 128 tokens, not 129; the shared tokens are still compared', async () => {
    const base = await tokenizerOf(models.dsDraft);
    const [pad128, pad129, lastRenamed] = await Promise.all(
      [variants.padded128, variants.padded129, variants.lastTokenRenamed].map(tokenizerOf),
    );
    assert.notEqual(pad128.fingerprint, base.fingerprint);
    assert.ok(vocabCompatible(pad128, base) && vocabCompatible(base, pad128));
    assert.ok(vocabCompatible(pad128, pad129), 'one token apart');
    assert.equal(vocabMismatch(pad129, base), 'vocabulary size 32385 vs 32256');
    assert.equal(vocabMismatch(base, pad129), 'vocabulary size 32256 vs 32385');
    assert.equal(vocabMismatch(pad128, lastRenamed), 'token texts differ between ids 5 and 32255');
  });

  test('BOS/EOS ids and add_bos must agree; vocabulary types must match', async () => {
    const base = await tokenizerOf(models.dsDraft);
    assert.equal(vocabMismatch(await tokenizerOf(variants.noAddBos), base), 'BOS/EOS tokens');
    assert.equal(vocabMismatch(await tokenizerOf(variants.otherEos), base), 'BOS/EOS tokens');
    assert.equal(vocabMismatch(await tokenizerOf(models.spmDraft), base), 'vocabulary type spm vs bpe');
  });
});

function withUint32(bytes: Buffer, offset: number, value: number): Buffer {
  const b = Buffer.from(bytes);
  b.writeUInt32LE(value, offset);
  return b;
}

function withUint64(bytes: Buffer, offset: number, value: bigint): Buffer {
  const b = Buffer.from(bytes);
  b.writeBigUInt64LE(value, offset);
  return b;
}
