// Bad model files: each gets a stable JSON-RPC error code and a message that names the file and
// the problem; the same engine process then loads good models and completes.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { ErrorCodes } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { makeTestModel, ROOT, testModelPair, VOCAB_GGUF } from '../helpers/models';

async function initError(engine: EngineClient, targetModelPath: string, draftModelPath?: string): Promise<ResponseError<unknown>> {
  try {
    await engine.initialize({ targetModelPath, draftModelPath, threads: 2, contextSize: 256 });
  } catch (e) {
    assert.ok(e instanceof ResponseError, String(e));
    return e;
  }
  assert.fail(`${targetModelPath} loaded`);
}

describe('engine process: bad models', () => {
  const models = testModelPair();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specexec-bad-'));
  const file = (name: string, bytes: Buffer | string) => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  let engine: EngineClient;

  before(() => {
    engine = startEngine();
  });
  after(async () => engine.shutdown());

  test('complete before initialize gets NotInitialized', async () => {
    try {
      await engine.complete({ prompt: 'x', maxTokens: 2 });
      assert.fail('completed without models');
    } catch (e) {
      assert.equal((e as ResponseError<unknown>).code, ErrorCodes.NotInitialized);
    }
  });

  const cases: [string, () => string, number, RegExp][] = [
    ['a missing path', () => path.join(dir, 'nope.gguf'), ErrorCodes.ModelMissing, /not found/],
    [
      'a directory',
      () => {
        mkdirSync(path.join(dir, 'folder.gguf'), { recursive: true });
        return path.join(dir, 'folder.gguf');
      },
      ErrorCodes.ModelMissing,
      /directory/,
    ],
    ['an empty file', () => file('empty.gguf', ''), ErrorCodes.ModelInvalid, /empty or truncated/],
    ['an HTML page saved as .gguf', () => file('page.gguf', '<html>Not Found</html>\n'.repeat(20)), ErrorCodes.ModelInvalid, /not a GGUF/],
    [
      'a wrong magic',
      () => {
        const b = readFileSync(models.target).subarray(0, 4096);
        b.write('GGML', 0);
        return file('magic.gguf', b);
      },
      ErrorCodes.ModelInvalid,
      /not a GGUF/,
    ],
    [
      'an absurd tensor count',
      () => {
        const b = Buffer.from(readFileSync(models.target).subarray(0, 4096));
        b.writeBigUInt64LE(1n << 40n, 8);
        return file('count.gguf', b);
      },
      ErrorCodes.ModelInvalid,
      /corrupt GGUF header/,
    ],
    [
      'a truncated download',
      () => {
        const b = readFileSync(models.target);
        return file('truncated.gguf', b.subarray(0, Math.floor(b.length * 0.6)));
      },
      ErrorCodes.ModelInvalid,
      /truncated/,
    ],
    [
      'damaged metadata',
      () => {
        const b = Buffer.from(readFileSync(models.target));
        b.fill(0xff, 24, 4000);
        return file('damaged.gguf', b);
      },
      ErrorCodes.ModelInvalid,
      /corrupt GGUF/,
    ],
    ['a vocabulary-only GGUF', () => VOCAB_GGUF, ErrorCodes.ModelUnsupported, /vocabulary only/],
    [
      'an architecture llama.cpp does not know',
      () => makeTestModel('alien', { layers: 1, embd: 32, heads: 2, kvHeads: 2, ff: 64, seed: 3, arch: 'no-such-arch' }),
      ErrorCodes.ModelUnsupported,
      /no-such-arch|could not load/,
    ],
  ];
  for (const [name, make, code, message] of cases) {
    test(`${name} gets error ${code} naming the file`, async () => {
      const p = make();
      const err = await initError(engine, p);
      assert.equal(err.code, code, err.message);
      assert.ok(err.message.includes(p), `message names the file: ${err.message}`);
      assert.match(err.message, message);
    });
  }

  test('a draft with another tokenizer gets VocabMismatch naming both files', async () => {
    const otherVocab = path.join(ROOT, 'build', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
    const draft = makeTestModel('spm-draft', { layers: 1, embd: 32, heads: 2, kvHeads: 2, ff: 64, seed: 4, vocab: otherVocab });
    const err = await initError(engine, models.target, draft);
    assert.equal(err.code, ErrorCodes.VocabMismatch);
    assert.ok(err.message.includes(draft) && err.message.includes(models.target), err.message);
  });

  test('a model file that changes under a loaded engine does not hurt it', async () => {
    const copy = path.join(dir, 'copy.gguf');
    copyFileSync(models.target, copy);
    await engine.initialize({ targetModelPath: copy, threads: 2, contextSize: 256 });
    const fd = openSync(copy, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0), 0, 4096, 0); // the header of the file on disk is gone now
    closeSync(fd);
    const r = await engine.complete({ prompt: 'def f():', maxTokens: 4 });
    assert.equal(r.tokens.length, 4);
  });

  test('after all of that the same process loads good models and completes', async () => {
    await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2 });
    assert.equal((await engine.complete({ prompt: 'def f():', maxTokens: 4 })).tokens.length, 4);
  });
});
