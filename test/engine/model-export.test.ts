// Export correctness of the bundled models (models/specexec-{draft,target}.gguf): the engine's
// logits (llama.cpp through the addon) must match PyTorch's on held-out text. The fixtures are
// written by engine-native/training/reference_logits.py from the weights imported back from the
// shipped GGUF, so a wrong tensor layout (e.g. a missing RoPE Q/K permutation), wrong
// hyper-parameters or wrong tokenizer ids fail here. Quantization error is not measured here (the
// model card reports it); the tolerance covers llama.cpp's own rounding (Q8_0 activations, F16).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../engine-native/host/native';
import { testingAddon } from '../helpers/testing-addon';
import { compareLogits, type LogitFixture as Fixture } from '../../engine-native/training/logit_compare.mjs';

const ROOT = packageRoot();
/** max |logit(engine) - logit(torch)| over the fixture's top-k and probe ids, all positions */
const TOLERANCE = 0.15;

interface HeldOut {
  windows: { lang: string; path: string; tokens: number[] }[];
}

function readJson<T>(rel: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8')) as T;
}

/** mean negative log-likelihood (nats/token) of each window under the model, computed by the engine */
function engineNll(model: string, windows: HeldOut['windows'], nVocab: number): number {
  const addon = testingAddon();
  let sum = 0;
  let n = 0;
  for (const w of windows) {
    const logits = addon.evalLogits(model, Uint32Array.from(w.tokens), 2);
    for (let p = 0; p + 1 < w.tokens.length; p++) {
      const row = logits.subarray(p * nVocab, (p + 1) * nVocab);
      let mx = -Infinity;
      for (let i = 0; i < nVocab; i++) mx = Math.max(mx, row[i]);
      let s = 0;
      for (let i = 0; i < nVocab; i++) s += Math.exp(row[i] - mx);
      sum += mx + Math.log(s) - row[w.tokens[p + 1]];
      n++;
    }
  }
  return sum / n;
}

describe('bundled models: export correctness', () => {
  for (const which of ['target', 'draft']) {
    test(`${which}: engine logits match torch on held-out text (tolerance ${TOLERANCE})`, () => {
      const fx = readJson<Fixture>(`test/fixtures/${which}-reference-logits.json`);
      const model = path.join(ROOT, fx.model);
      assert.ok(existsSync(model), `${fx.model} is missing`);
      const sha = createHash('sha256').update(readFileSync(model)).digest('hex');
      assert.equal(sha, fx.model_sha256, `${fx.model} changed since the fixture was written: rerun reference_logits.py`);
      const logits = testingAddon().evalLogits(model, Uint32Array.from(fx.tokens), 2);
      assert.equal(logits.length, fx.tokens.length * fx.n_vocab);
      const r = compareLogits(fx, logits, TOLERANCE);
      assert.ok(r.maxDiff <= TOLERANCE, `max |diff| ${r.maxDiff} > ${TOLERANCE} (logit std ${fx.logit_std})`);
      assert.equal(r.hardMiss, 0, 'argmax differs where torch has a clear winner');
      assert.ok(r.argmaxAgreement >= 0.97, `argmax agreement ${r.argmaxAgreement}`);
    });

    test(`${which}: the engine's tokenizer reproduces the fixture's held-out tokens`, () => {
      const fx = readJson<Fixture>(`test/fixtures/${which}-reference-logits.json`);
      const tok = new (testingAddon().Tokenizer)(path.join(ROOT, fx.model));
      try {
        assert.equal(tok.vocabSize(), 32256);
        // the fill-in-the-middle ids the models were trained with (deepseek-coder: pre, suf, mid)
        assert.deepEqual(Array.from(tok.tokenize('<｜fim▁begin｜><｜fim▁hole｜><｜fim▁end｜>', true)), [32016, 32015, 32017]);
        const body = fx.tokens.slice(1); // after BOS
        const text = tok.detokenize(Uint32Array.from(body));
        const again = Array.from(tok.tokenize(text, false));
        // the window ends mid-file: the last word may tokenize differently once cut
        assert.deepEqual(again.slice(0, body.length - 2), body.slice(0, body.length - 2));
      } finally {
        tok.close();
      }
    });
  }

  test('the target has a lower held-out loss than its draft (engine-computed)', () => {
    const held = readJson<HeldOut>('test/fixtures/heldout-tokens.json');
    const nVocab = 32256;
    const t = engineNll(path.join(ROOT, 'models', 'specexec-target.gguf'), held.windows, nVocab);
    const d = engineNll(path.join(ROOT, 'models', 'specexec-draft.gguf'), held.windows, nVocab);
    assert.ok(t < d, `target ${t.toFixed(3)} nats/token should be below draft ${d.toFixed(3)}`);
  });
});
