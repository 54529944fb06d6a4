// Oversized and odd input through a real engine process: prompts longer than the context are
// trimmed far from the cursor (and the result says so), empty prompts, binary garbage, every Unicode
// plane and lone UTF-16 surrogates from the editor all end in a correct completion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { loadAddon } from '../../engine-native/host/native';
import type { CompleteResult } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const CONTEXT = 512;
const MAX_TOKENS = 16;

function numberedLines(from: number, to: number, name: string): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${name}_${i} = compute(${i}, "${name}")\n`;
  return s;
}

/** True when the string has no unpaired UTF-16 surrogate (i.e. it came from valid UTF-8). */
function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

describe('oversized and odd prompts', () => {
  const models = testModelPair();
  const tokenizer = new (loadAddon().Tokenizer)(models.target);
  const tokens = (text: string) => tokenizer.tokenize(text, false);
  const text = (t: Uint32Array) => tokenizer.detokenize(t);
  let engine: EngineClient;

  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: CONTEXT });
  });
  after(async () => engine.shutdown());

  function assertFits(r: CompleteResult): void {
    assert.ok(r.stats.promptTokens + MAX_TOKENS <= CONTEXT, `${r.stats.promptTokens} prompt tokens leave room to generate`);
    assert.equal(r.tokens.length, MAX_TOKENS);
  }

  test('a plain prompt longer than the context keeps its end, from a line start, and says what it dropped', async () => {
    const prompt = numberedLines(0, 400, 'x');
    const r = await engine.complete({ prompt, maxTokens: MAX_TOKENS, mode: 'autoregressive' });
    assertFits(r);
    assert.ok(r.trimmed && r.trimmed.prefixTokens > 0 && r.trimmed.suffixTokens === 0, JSON.stringify(r.trimmed));
    const kept = text(tokens(prompt).subarray(r.trimmed.prefixTokens));
    assert.ok(prompt.endsWith(kept) && prompt[prompt.length - kept.length - 1] === '\n', 'the kept text is whole lines');
    // the completion is exactly that of the kept text sent on its own
    const alone = await engine.complete({ prompt: kept, maxTokens: MAX_TOKENS, mode: 'autoregressive' });
    assert.equal(alone.trimmed, undefined);
    assert.deepEqual(r.tokens, alone.tokens);
  });

  test('a FIM prompt keeps the text nearest the cursor on both sides, in every mode', async () => {
    const prefix = numberedLines(0, 300, 'before') + 'def middle(';
    const suffix = ')\n' + numberedLines(0, 300, 'after');
    const reference = await engine.complete({ prompt: { prefix, suffix }, maxTokens: MAX_TOKENS, mode: 'autoregressive' });
    assertFits(reference);
    const trim = reference.trimmed!;
    assert.ok(trim.prefixTokens > 0 && trim.suffixTokens > 0, JSON.stringify(trim));
    const prefixTokens = tokens(prefix);
    const suffixTokens = tokens(suffix);
    const keptPrefix = text(prefixTokens.subarray(trim.prefixTokens));
    const keptSuffix = text(suffixTokens.subarray(0, suffixTokens.length - trim.suffixTokens));
    assert.ok(prefix.endsWith(keptPrefix) && keptPrefix.length > 500, 'the prefix keeps its end');
    assert.ok(suffix.startsWith(keptSuffix) && keptSuffix.endsWith('\n'), 'the suffix keeps its start, up to a line end');
    assert.ok(trim.prefixTokens < prefixTokens.length - 200, 'the prefix (nearest the text being written) gets most of the room');
    const alone = await engine.complete({
      prompt: { prefix: keptPrefix, suffix: keptSuffix },
      maxTokens: MAX_TOKENS,
      mode: 'autoregressive',
    });
    assert.equal(alone.trimmed, undefined);
    assert.deepEqual(reference.tokens, alone.tokens);
    for (const mode of ['specexec', 'chain'] as const) {
      const r = await engine.complete({ prompt: { prefix, suffix }, maxTokens: MAX_TOKENS, mode, budget: 8 });
      assert.deepEqual(r.trimmed, trim);
      assert.deepEqual(r.tokens, reference.tokens, mode);
    }
  });

  test('a short suffix is kept whole and the prefix takes the rest of the room', async () => {
    const prefix = numberedLines(0, 400, 'y');
    const r = await engine.complete({ prompt: { prefix, suffix: '\nreturn y\n' }, maxTokens: MAX_TOKENS });
    assertFits(r);
    assert.equal(r.trimmed?.suffixTokens, 0);
    assert.ok(r.stats.promptTokens > CONTEXT - MAX_TOKENS - 40, `${r.stats.promptTokens} prompt tokens: the room is used`);
  });

  test('empty prompts complete', async () => {
    for (const prompt of ['', { prefix: '', suffix: '' }]) {
      const r = await engine.complete({ prompt, maxTokens: 4, mode: 'autoregressive' });
      assert.equal(r.tokens.length, 4, JSON.stringify(prompt));
      assert.equal(r.trimmed, undefined);
    }
  });

  test('binary garbage, every Unicode plane and lone surrogates complete with well-formed text', async () => {
    let garbage = '';
    for (let i = 0; i < 600; i++) garbage += String.fromCharCode((i * 7919) % 256);
    const planes = [0x41, 0xe9, 0x4e2d, 0xfffd, 0x1f600, 0x20000, 0x30000, 0xe0001, 0xf0000, 0x10fffd]
      .map((c) => String.fromCodePoint(c))
      .join(' ');
    const surrogates = 'let s = "\uD800 \uDFFF \uDBFF";\n';
    for (const prompt of [garbage, planes, surrogates, { prefix: surrogates + planes, suffix: garbage }]) {
      const deltas: string[] = [];
      const r = await engine.complete({ prompt, maxTokens: 8, mode: 'specexec', budget: 4 }, (d) => deltas.push(d));
      assert.ok(r.tokens.length === 8 || r.stopReason === 'eos', `${r.tokens.length} tokens, ${r.stopReason}`);
      assert.ok(wellFormed(r.text));
      assert.equal(deltas.join(''), r.text, 'the stream adds up to the result');
    }
    // the engine is unharmed: a normal completion still matches the reference
    const plain = await engine.complete({ prompt: 'def add(a, b):', maxTokens: 8, mode: 'autoregressive' });
    assert.equal(plain.tokens.length, 8);
  });
});
