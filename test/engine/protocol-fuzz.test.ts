// Thousands of random and mutated messages thrown at a real engine process; afterwards it must
// still answer a valid request correctly. (`shutdown` and `exit` are left out: they end the
// process by design.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testingAddon } from '../helpers/testing-addon';
import { RawHost } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

const MESSAGES = 3000;

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function fuzzValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 2 || r < 0.15) return Math.floor(rand() * 1e9) * (rand() < 0.5 ? -1 : 1);
  if (r < 0.25) return rand() < 0.5 ? NaN : 1e308 * 10;
  if (r < 0.35) return 'x'.repeat(Math.floor(rand() * 300));
  if (r < 0.45) return String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rand() * 0xffff)));
  if (r < 0.55) return null;
  if (r < 0.65) return rand() < 0.5;
  if (r < 0.8) return Array.from({ length: Math.floor(rand() * 4) }, () => fuzzValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of [
    'prompt',
    'maxTokens',
    'temperature',
    'seed',
    'budget',
    'mode',
    'stop',
    'topP',
    'topK',
    'targetModelPath',
    'threads',
    'messages',
  ]) {
    if (rand() < 0.3) o[k] = fuzzValue(rand, depth + 1);
  }
  return o;
}

const METHODS = ['complete', 'chat', 'initialize', 'inspectModel', '$/cancelRequest', 'nope', '', 'complete/x', '$/progress'];

function fuzzMessage(rand: () => number, i: number, validComplete: string): Buffer {
  const kind = rand();
  let body: Buffer;
  if (kind < 0.45) {
    const m: Record<string, unknown> = { jsonrpc: rand() < 0.9 ? '2.0' : '1.0', method: METHODS[Math.floor(rand() * METHODS.length)] };
    if (rand() < 0.8) m.id = rand() < 0.8 ? 100000 + i : fuzzValue(rand);
    if (rand() < 0.9) m.params = fuzzValue(rand);
    body = Buffer.from(JSON.stringify(m) ?? 'null');
  } else if (kind < 0.75) {
    // a valid request with bytes flipped, cut or duplicated
    const b = Buffer.from(validComplete.replace('"id":0', `"id":${200000 + i}`));
    const op = rand();
    if (op < 0.4) for (let k = 0; k < 1 + rand() * 5; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    body =
      op < 0.4
        ? b
        : op < 0.7
          ? b.subarray(0, Math.floor(rand() * b.length))
          : Buffer.concat([b, b.subarray(0, Math.floor(rand() * b.length))]);
  } else if (kind < 0.9) {
    body = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  } else {
    // broken framing: a bad or missing header, or a plain line
    const r = rand();
    return Buffer.from(
      r < 0.3 ? `Content-Length: ${rand() < 0.5 ? 'abc' : -5}\r\n\r\n{}` : r < 0.6 ? 'garbage line\n' : `X-Whatever: 1\r\n\r\n`,
    );
  }
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
}

describe('engine process: fuzzing', () => {
  const models = testModelPair();
  let host: RawHost;
  before(async () => {
    host = new RawHost();
    host.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 256 },
    });
    const r = await host.response(60000);
    assert.ok(r.result, JSON.stringify(r.error));
  });
  after(async () => host.close());

  test(`${MESSAGES} random and mutated messages, then a correct completion`, async () => {
    const rand = lcg(42);
    const valid = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'complete', params: { prompt: 'def f(x):', maxTokens: 8 } });
    for (let i = 0; i < MESSAGES; i++) host.proc.stdin.write(fuzzMessage(rand, i, valid));
    host.send({
      jsonrpc: '2.0',
      id: 'final',
      method: 'complete',
      params: { prompt: 'def fuzzed(x):\n', maxTokens: 12, mode: 'specexec', budget: 8 },
    });
    let replies = 0;
    for (;;) {
      const m = await host.next(120000);
      if (m.id === 'final') {
        const result = m.result as { tokens: number[] } | undefined;
        assert.ok(result, JSON.stringify(m.error));
        assert.deepEqual(result.tokens, Array.from(testingAddon().referenceGreedy(models.target, 'def fuzzed(x):\n', 12, 2)));
        break;
      }
      if ('id' in m) replies++;
    }
    assert.ok(replies > MESSAGES / 3, `${replies} replies to ${MESSAGES} messages`);
    assert.equal(host.proc.exitCode, null, 'the process is still running');
  });
});
