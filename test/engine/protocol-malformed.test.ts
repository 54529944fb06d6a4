// Malformed input straight onto the engine host's stdin: each gets a JSON-RPC error reply and the
// process keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes } from '../../engine-native/host/protocol';
import { RawHost } from '../helpers/engine';
import { testModelPair } from '../helpers/models';

describe('engine process: malformed messages', () => {
  let host: RawHost;
  before(() => {
    host = new RawHost();
  });
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

  test('a hand-written line gets a JSON-RPC error and the next request is served', async () => {
    host.proc.stdin.write('hello engine, are you there?\n');
    const r = await host.response();
    assert.equal((r.error as { code: number }).code, ErrorCodes.ParseError);
    host.proc.stdin.write('{"jsonrpc":"2.0","id":77,"method":"complete","params":{}}\n');
    const unframed = await host.response();
    assert.equal(unframed.id, 77);
    assert.equal((unframed.error as { code: number }).code, ErrorCodes.InvalidRequest);
    host.send({ jsonrpc: '2.0', id: 78, method: 'no/such' });
    assert.equal((await host.response()).id, 78);
  });

  test('a broken Content-Length header is answered and the stream resynchronises', async () => {
    host.proc.stdin.write('Content-Length: lots\r\n\r\n{"jsonrpc":"2.0"}');
    host.send({ jsonrpc: '2.0', id: 79, method: 'no/such' });
    // the header is answered, then the body it could not frame, then the next message
    assert.equal(((await host.response()).error as { code: number }).code, ErrorCodes.ParseError);
    assert.equal(((await host.response()).error as { code: number }).code, ErrorCodes.ParseError);
    assert.equal((await host.response()).id, 79);
  });

  test('a message over the size limit is refused without being buffered', async () => {
    const huge = Buffer.alloc(20 * 1024 * 1024, 0x61);
    host.sendRaw(huge);
    const r = await host.response();
    assert.equal((r.error as { code: number }).code, ErrorCodes.InvalidRequest);
    assert.match((r.error as { message: string }).message, /refused/);
    host.send({ jsonrpc: '2.0', id: 80, method: 'no/such' });
    assert.equal((await host.response()).id, 80);
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
