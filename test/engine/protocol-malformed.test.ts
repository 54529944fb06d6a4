// Malformed input straight onto the engine host's stdin: each gets a JSON-RPC error reply and the
// process keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes } from '../../engine-native/host/protocol';
import { RawHost } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

describe('engine process: malformed messages', () => {
  let host: RawHost;
  before(() => { host = new RawHost(); });
  after(async () => host.close());

  test('invalid JSON gets ParseError with id null', async () => {
    host.sendRaw('{"jsonrpc": "2.0", "id": 1, "method": ');
    const r = await host.response();
    assert.equal(r.id, null);
    assert.equal((r.error as { code: number }).code, ErrorCodes.ParseError);
  });

  test('invalid UTF-8 bytes get ParseError', async () => {
    host.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    const r = await host.response();
    assert.equal((r.error as { code: number }).code, ErrorCodes.ParseError);
  });

  test('a JSON value that is not a request gets InvalidRequest', async () => {
    for (const body of ['[1, 2, 3]', '42', '"hello"', '{"jsonrpc":"2.0","id":5,"method":7}']) {
      host.sendRaw(body);
      const r = await host.response();
      assert.equal((r.error as { code: number }).code, ErrorCodes.InvalidRequest, body);
    }
  });

  test('an unknown method gets MethodNotFound with its id', async () => {
    host.send({ jsonrpc: '2.0', id: 'abc', method: 'no/such/method', params: {} });
    const r = await host.response();
    assert.equal(r.id, 'abc');
    assert.equal((r.error as { code: number }).code, ErrorCodes.MethodNotFound);
  });

  test('initialize with wrong parameter types gets InvalidParams', async () => {
    host.send({ jsonrpc: '2.0', id: 10, method: 'initialize', params: { targetModelPath: 5 } });
    assert.equal(((await host.response()).error as { code: number }).code, ErrorCodes.InvalidParams);
    host.send({ jsonrpc: '2.0', id: 11, method: 'initialize', params: { targetModelPath: 'x.gguf', threads: -3 } });
    assert.equal(((await host.response()).error as { code: number }).code, ErrorCodes.InvalidParams);
  });

  test('after all that, the same process initializes and completes', async () => {
    const models = testModelPair();
    host.send({ jsonrpc: '2.0', id: 20, method: 'initialize', params: { targetModelPath: models.target, threads: 2 } });
    const init = await host.response();
    assert.equal(init.id, 20);
    assert.ok(init.result, JSON.stringify(init.error));
    host.send({ jsonrpc: '2.0', id: 21, method: 'complete', params: { prompt: 'def f(x):', maxTokens: 5, progressToken: 't' } });
    let deltas = '';
    for (;;) {
      const m = await host.next();
      if (m.method === 'specexec/progress') {
        deltas += (m.params as { delta: string }).delta;
        continue;
      }
      assert.equal(m.id, 21);
      const result = m.result as { text: string; tokens: number[] };
      assert.equal(result.tokens.length, 5);
      assert.equal(deltas, result.text);
      break;
    }
  });
});
