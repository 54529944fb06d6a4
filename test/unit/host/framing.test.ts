// The host's stdin reader (engine-native/host/framing.ts) on real Node streams, no engine needed:
// Content-Length frames however they are chunked, and after every kind of malformed input a
// JSON-RPC error reply and the next well-formed message still delivered.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { Message, ResponseMessage } from 'vscode-jsonrpc/node';
import { MAX_MESSAGE_BYTES, ResyncingMessageReader } from '../../../engine-native/host/framing';
import { ErrorCodes } from '../../../engine-native/host/protocol';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function open() {
  const input = new PassThrough();
  const messages: Message[] = [];
  const errors: ResponseMessage[] = [];
  const reader = new ResyncingMessageReader(input, (response) => errors.push(response));
  const listening = reader.listen((m) => messages.push(m));
  /** Writes each chunk on its own and lets the stream deliver it before the next. */
  const send = async (...chunks: (string | Buffer)[]) => {
    for (const chunk of chunks) {
      input.write(chunk);
      await tick();
    }
  };
  return { input, reader, listening, messages, errors, send };
}

/** One Content-Length frame around `body` (a message object, or its text or bytes as they are). */
function frame(body: object | string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

const GOOD = { jsonrpc: '2.0', id: 99, method: 'complete', params: { prompt: 'def f(' } };
const UTF8 = { jsonrpc: '2.0', id: 2, method: 'chat', params: { messages: [{ role: 'user', content: 'héllo € 😀 数' }] } };

/** Every error reply as [code, id], after checking that each is a JSON-RPC 2.0 error response. */
function codes(errors: ResponseMessage[]): [number, number | string | null][] {
  for (const e of errors) {
    assert.equal(e.jsonrpc, '2.0');
    assert.equal(typeof e.error?.message, 'string');
    assert.equal(e.result, undefined);
  }
  return errors.map((e) => [e.error!.code, e.id]);
}

describe('ResyncingMessageReader: well-formed input', () => {
  test('a message in one chunk is delivered', async () => {
    const h = open();
    await h.send(frame(GOOD));
    assert.deepEqual(h.messages, [GOOD]);
    assert.deepEqual(h.errors, []);
  });

  test('requests, notifications and responses are all delivered', async () => {
    const h = open();
    const notification = { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } };
    const response = { jsonrpc: '2.0', id: 'a', result: null };
    const errorResponse = { jsonrpc: '2.0', id: 3, error: { code: -1, message: 'x' } };
    await h.send(frame(notification), frame(response), frame(errorResponse), frame({ jsonrpc: '2.0', id: 4, method: 'shutdown' }));
    assert.deepEqual(h.messages, [notification, response, errorResponse, { jsonrpc: '2.0', id: 4, method: 'shutdown' }]);
    assert.deepEqual(h.errors, []);
  });

  test('the Content-Length header is case-insensitive and other headers are ignored', async () => {
    const h = open();
    const body = JSON.stringify(GOOD);
    await h.send(`content-length: ${body.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n${body}`);
    await h.send(`Content-Type: application/json\r\nCONTENT-LENGTH:${body.length}\r\n\r\n${body}`);
    assert.deepEqual(h.messages, [GOOD, GOOD]);
    assert.deepEqual(h.errors, []);
  });

  test('header lines may end in a bare \\n, as lenient LSP readers allow', async () => {
    const h = open();
    const body = JSON.stringify(GOOD);
    await h.send(`Content-Length: ${body.length}\n\n${body}`, frame(UTF8));
    await h.send(`Content-Type: application/json\nContent-Length: ${body.length}\r\n\n${body}${frame(GOOD)}`);
    assert.deepEqual(h.messages, [GOOD, UTF8, GOOD, GOOD]);
    assert.deepEqual(h.errors, []);
  });

  test('a 16 MiB message in 64 KiB chunks is joined once, not at every chunk', async () => {
    const h = open();
    const head = '{"jsonrpc":"2.0","id":1,"method":"complete","params":{"prompt":"';
    const tail = '"}}';
    const bytes = frame(head + 'a'.repeat(MAX_MESSAGE_BYTES - head.length - tail.length) + tail);
    const concat = Buffer.concat;
    let copied = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      const out = concat(list, total);
      copied += out.length;
      return out;
    }) as typeof Buffer.concat;
    try {
      for (let i = 0; i < bytes.length; i += 64 * 1024) h.input.write(bytes.subarray(i, i + 64 * 1024));
      await tick();
    } finally {
      Buffer.concat = concat;
    }
    assert.equal(h.messages.length, 1);
    assert.deepEqual(h.errors, []);
    // joining the buffer with each new chunk copies about 256 × 8 MiB; joining once copies 16 MiB
    assert.ok(copied <= 2 * bytes.length, `${copied} bytes copied to assemble ${bytes.length}`);
  });

  test('several messages in one chunk arrive in order', async () => {
    const h = open();
    const all = [1, 2, 3, 4, 5].map((id) => ({ jsonrpc: '2.0', id, method: 'm' }));
    await h.send(Buffer.concat(all.map(frame)));
    assert.deepEqual(h.messages, all);
    assert.deepEqual(h.errors, []);
  });

  test('a message split in two at every byte boundary is delivered once, when complete', async () => {
    const bytes = frame(GOOD);
    for (let i = 1; i < bytes.length; i++) {
      const h = open();
      await h.send(bytes.subarray(0, i));
      assert.deepEqual(h.messages, [], `split at ${i}: delivered early`);
      await h.send(bytes.subarray(i));
      assert.deepEqual(h.messages, [GOOD], `split at ${i}`);
      assert.deepEqual(h.errors, [], `split at ${i}`);
    }
  });

  test('three messages fed one byte at a time', async () => {
    const h = open();
    const bytes = Buffer.concat([frame(GOOD), frame(UTF8), frame(GOOD)]);
    for (let i = 0; i < bytes.length; i++) h.input.write(bytes.subarray(i, i + 1));
    await tick();
    assert.deepEqual(h.messages, [GOOD, UTF8, GOOD]);
    assert.deepEqual(h.errors, []);
  });

  test('UTF-8: Content-Length counts bytes, and a split inside a multi-byte character is fine', async () => {
    const bytes = frame(UTF8);
    const text = JSON.stringify(UTF8);
    assert.ok(Buffer.byteLength(text) > text.length, 'the body has multi-byte characters');
    assert.ok(bytes.toString('latin1').startsWith(`Content-Length: ${Buffer.byteLength(text)}\r\n`));
    for (let i = 1; i < bytes.length; i++) {
      const h = open();
      await h.send(bytes.subarray(0, i), bytes.subarray(i));
      assert.deepEqual(h.messages, [UTF8], `split at ${i}`);
      assert.deepEqual(h.errors, [], `split at ${i}`);
    }
  });

  test('a message of exactly MAX_MESSAGE_BYTES is delivered', async () => {
    const h = open();
    const head = '{"jsonrpc":"2.0","id":1,"method":"complete","params":{"prompt":"';
    const tail = '"}}';
    const body = head + 'a'.repeat(MAX_MESSAGE_BYTES - head.length - tail.length) + tail;
    assert.equal(Buffer.byteLength(body), MAX_MESSAGE_BYTES);
    await h.send(frame(body), frame(GOOD));
    assert.equal(h.messages.length, 2);
    assert.equal(
      (h.messages[0] as unknown as { params: { prompt: string } }).params.prompt.length,
      MAX_MESSAGE_BYTES - head.length - tail.length,
    );
    assert.deepEqual(h.messages[1], GOOD);
    assert.deepEqual(h.errors, []);
  });
});

const P = ErrorCodes.ParseError;
const R = ErrorCodes.InvalidRequest;

interface BadInput {
  name: string;
  bad: string | Buffer;
  /** The error replies expected, as [code, id, a part of the message]. */
  replies: [number, number | string | null, string][];
}

// the error replies, by what they say
const NO_LENGTH: BadInput['replies'] = [[P, null, 'missing or invalid Content-Length header']];
const NO_HEADER: BadInput['replies'] = [[P, null, 'expected a "Content-Length: N" header']];
const BAD_BODY: BadInput['replies'] = [[P, null, 'invalid JSON or UTF-8']];
const unframed = (id: number): BadInput['replies'] => [[R, id, 'a JSON-RPC message without its Content-Length header']];
const notRpc = (id: number | string | null): BadInput['replies'] => [[R, id, 'not a JSON-RPC 2.0 request or notification']];
const refused = (n: number | string): BadInput['replies'] => [[R, null, `message of ${n} bytes refused`]];

const BAD_INPUTS: BadInput[] = [
  { name: 'a non-numeric Content-Length', bad: 'Content-Length: abc\r\n\r\n', replies: NO_LENGTH },
  { name: 'a negative Content-Length', bad: 'Content-Length: -5\r\n\r\n', replies: NO_LENGTH },
  { name: 'a fractional Content-Length', bad: 'Content-Length: 2.5\r\n\r\n', replies: NO_LENGTH },
  { name: 'headers without Content-Length', bad: 'Content-Type: application/json\r\n\r\n', replies: NO_LENGTH },
  // Content-Length is decimal digits only: Number() would take all of these
  { name: 'a hexadecimal Content-Length', bad: 'Content-Length: 0x2\r\n\r\n', replies: NO_LENGTH },
  { name: 'an exponent in Content-Length', bad: 'Content-Length: 1e2\r\n\r\n', replies: NO_LENGTH },
  { name: 'an empty Content-Length', bad: 'Content-Length: \r\n\r\n', replies: NO_LENGTH },
  { name: 'a signed Content-Length', bad: 'Content-Length: +2\r\n\r\n', replies: NO_LENGTH },
  { name: 'two numbers in Content-Length', bad: 'Content-Length: 1 2\r\n\r\n', replies: NO_LENGTH },
  // a line that looks like a header, ending in a bare \n: an unknown header of the next frame, ignored
  { name: 'a header-like line of text', bad: 'Error: oops\n', replies: [] },
  { name: 'a header-like line, then a blank line', bad: 'Error: oops\n\n', replies: NO_LENGTH },
  { name: 'headers broken by a line of text', bad: 'Error: oops\nhello world\n', replies: NO_HEADER },
  {
    name: 'headers broken by an unframed request',
    bad: 'Content-Type: x\r\n{"jsonrpc":"2.0","id":3,"method":"x"}\n',
    replies: unframed(3),
  },
  { name: 'garbage glued to the next header, looking like a header', bad: 'oops', replies: NO_HEADER },
  { name: 'an absurd Content-Length', bad: 'Content-Length: 9007199254740991\r\n\r\n', replies: refused('9007199254740991') },
  { name: 'a Content-Length beyond any number', bad: `Content-Length: ${'9'.repeat(400)}\r\n\r\n`, replies: refused('9'.repeat(400)) },
  {
    name: 'a Content-Length over the limit, then text lines before the next header',
    bad: `Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\nsome text\r\n{"id":5}\n`,
    replies: refused(MAX_MESSAGE_BYTES + 1),
  },
  {
    name: 'a bad Content-Length before a request body',
    bad: 'Content-Length: abc\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"x"}',
    replies: [...NO_LENGTH, ...unframed(7)],
  },
  { name: 'a request line without headers', bad: '{"jsonrpc":"2.0","id":3,"method":"x"}\n', replies: unframed(3) },
  { name: 'a line of garbage', bad: 'hello world\n', replies: NO_HEADER },
  { name: 'garbage glued to the next header', bad: 'hello world', replies: NO_HEADER },
  { name: 'blank lines and stray whitespace', bad: '\r\n\r\n\n  ', replies: [] },
  { name: 'an invalid JSON body', bad: frame('{"jsonrpc":"2.0",'), replies: BAD_BODY },
  { name: 'an empty body', bad: 'Content-Length: 0\r\n\r\n', replies: BAD_BODY },
  { name: 'a body of invalid UTF-8', bad: frame(Buffer.from([0x22, 0xff, 0xfe, 0x22])), replies: BAD_BODY },
  {
    name: 'a Content-Length too short for its body',
    bad: Buffer.from('Content-Length: 5\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"x"}'),
    replies: [...BAD_BODY, ...NO_HEADER],
  },
  {
    name: 'a Content-Length counting characters, not bytes',
    bad: Buffer.concat([Buffer.from(`Content-Length: ${JSON.stringify(UTF8).length}\r\n\r\n`), Buffer.from(JSON.stringify(UTF8))]),
    replies: [...BAD_BODY, ...NO_HEADER],
  },
  { name: 'a batch (an array)', bad: frame('[{"jsonrpc":"2.0","id":1,"method":"x"}]'), replies: notRpc(null) },
  { name: 'a JSON null', bad: frame('null'), replies: notRpc(null) },
  { name: 'a JSON number', bad: frame('42'), replies: notRpc(null) },
  { name: 'neither method nor result nor error', bad: frame('{"jsonrpc":"2.0","id":4}'), replies: notRpc(4) },
  { name: 'a non-string method', bad: frame('{"jsonrpc":"2.0","id":8,"method":5}'), replies: notRpc(8) },
  { name: 'an object id', bad: frame('{"jsonrpc":"2.0","id":{},"method":"x"}'), replies: notRpc(null) },
  { name: 'a null id on a request', bad: frame('{"jsonrpc":"2.0","id":null,"method":"x"}'), replies: notRpc(null) },
  { name: 'string params', bad: frame('{"jsonrpc":"2.0","id":"s","method":"x","params":"p"}'), replies: notRpc('s') },
  { name: 'null params', bad: frame('{"jsonrpc":"2.0","id":6,"method":"x","params":null}'), replies: notRpc(6) },
];

function assertReplies(errors: ResponseMessage[], expected: BadInput['replies'], what: string): void {
  assert.deepEqual(
    codes(errors),
    expected.map(([code, id]) => [code, id]),
    what,
  );
  expected.forEach(([, , part], i) =>
    assert.ok(errors[i].error!.message.includes(part), `${what}: "${errors[i].error!.message}" lacks "${part}"`),
  );
}

describe('ResyncingMessageReader: malformed input, then a good message', () => {
  for (const { name, bad, replies } of BAD_INPUTS) {
    test(`${name}: sent apart`, async () => {
      const h = open();
      await h.send(bad, frame(GOOD));
      assert.deepEqual(h.messages, [GOOD]);
      assertReplies(h.errors, replies, name);
    });
    test(`${name}: in one chunk with the good message`, async () => {
      const h = open();
      await h.send(Buffer.concat([Buffer.from(bad), frame(GOOD)]));
      assert.deepEqual(h.messages, [GOOD]);
      assertReplies(h.errors, replies, name);
    });
  }

  test('a request body after a bad header is answered at once, not when more input comes', async () => {
    const h = open();
    await h.send('Content-Length: abc\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"x"}');
    assertReplies(
      h.errors,
      [
        [P, null, 'missing or invalid Content-Length header'],
        [R, 7, 'without its Content-Length header'],
      ],
      'bad header',
    );
    await h.send(frame(GOOD));
    assert.deepEqual(h.messages, [GOOD]);
    assert.equal(h.errors.length, 2);
  });

  test('a header-like line fed one byte at a time, then messages', async () => {
    const h = open();
    const bytes = Buffer.concat([Buffer.from('Error: oops\n'), frame(GOOD), Buffer.from('Content-Length: 0x2\n\n'), frame(UTF8)]);
    for (let i = 0; i < bytes.length; i++) h.input.write(bytes.subarray(i, i + 1));
    await tick();
    assert.deepEqual(h.messages, [GOOD, UTF8]);
    assertReplies(h.errors, NO_LENGTH, 'byte at a time');
  });

  test('headers over 8 KiB, in one chunk with the next message', async () => {
    const h = open();
    await h.send(Buffer.concat([Buffer.from(`X-A: 1\r\nContent-Length: 5\r\nX-Pad: ${'a'.repeat(9000)}`), frame(GOOD)]));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, [[P, null, 'message headers too long']], 'long headers');
  });

  test('headers over 8 KiB without their end are refused', async () => {
    const h = open();
    await h.send(`Content-Length: 5\r\nX-Pad: ${'a'.repeat(9000)}`, frame(GOOD));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, [[P, null, 'message headers too long']], 'long headers');
  });

  test('a line of over 8 KiB without a newline is dropped', async () => {
    const h = open();
    await h.send('x'.repeat(9000), frame(GOOD));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, NO_HEADER, 'long line');
  });
});

describe('ResyncingMessageReader: messages over MAX_MESSAGE_BYTES', () => {
  // a valid request, so that only its size can be the reason it is refused
  const head = '{"jsonrpc":"2.0","id":1,"method":"complete","params":{"prompt":"';
  const tail = '"}}';
  const oversized = frame(head + 'a'.repeat(MAX_MESSAGE_BYTES + 1 - head.length - tail.length) + tail);
  const headerBytes = oversized.indexOf('\r\n\r\n') + 4;

  test('refused in one chunk, then the next message arrives', async () => {
    const h = open();
    assert.equal(oversized.length - headerBytes, MAX_MESSAGE_BYTES + 1);
    await h.send(Buffer.concat([oversized, frame(GOOD)]));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, refused(MAX_MESSAGE_BYTES + 1), 'oversized');
  });

  test('refused at its header, its later chunks skipped, the message right after delivered', async () => {
    const h = open();
    const cut = headerBytes + 1000;
    await h.send(oversized.subarray(0, cut), oversized.subarray(cut, cut + 4096), oversized.subarray(cut + 4096), frame(GOOD));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, refused(MAX_MESSAGE_BYTES + 1), 'oversized');
  });

  test('the skipped bytes end inside a chunk that holds the next message', async () => {
    const h = open();
    await h.send(oversized.subarray(0, headerBytes), Buffer.concat([oversized.subarray(headerBytes), frame(GOOD), frame(UTF8)]));
    assert.deepEqual(h.messages, [GOOD, UTF8]);
    assertReplies(h.errors, refused(MAX_MESSAGE_BYTES + 1), 'oversized');
  });
});

describe('ResyncingMessageReader: a Content-Length over the limit without its body', () => {
  // the declared length is not trusted: the next header at the start of a line ends the refused body

  test('an absurd length, then several messages: all delivered', async () => {
    const h = open();
    await h.send('Content-Length: 9007199254740991\r\n\r\n', frame(GOOD), frame(UTF8), frame(GOOD));
    assert.deepEqual(h.messages, [GOOD, UTF8, GOOD]);
    assertReplies(h.errors, refused('9007199254740991'), 'absurd');
  });

  test('a length just over the limit, the next frame right after the header', async () => {
    const h = open();
    await h.send(Buffer.concat([Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n`), frame(GOOD), frame(UTF8)]));
    assert.deepEqual(h.messages, [GOOD, UTF8]);
    assertReplies(h.errors, refused(MAX_MESSAGE_BYTES + 1), 'oversized');
  });

  test('the next header split across chunks, at every byte', async () => {
    const bytes = Buffer.concat([Buffer.from('Content-Length: 99999999999\r\n\r\nxyz\n'), frame(GOOD)]);
    for (let i = 1; i < bytes.length; i++) {
      const h = open();
      await h.send(bytes.subarray(0, i), bytes.subarray(i));
      assert.deepEqual(h.messages, [GOOD], `split at ${i}`);
      assertReplies(h.errors, refused('99999999999'), `split at ${i}`);
    }
  });

  test('fed one byte at a time, with a lower-case header after \\n-only lines', async () => {
    const h = open();
    const body = JSON.stringify(GOOD);
    const bytes = Buffer.from(`Content-Length: 99999999999\n\njunk\n\ncontent-length: ${body.length}\n\n${body}`);
    for (let i = 0; i < bytes.length; i++) h.input.write(bytes.subarray(i, i + 1));
    await tick();
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, refused('99999999999'), 'one byte at a time');
  });

  test('"Content-Length:" inside a refused JSON body does not cut it short', async () => {
    // JSON has no raw newlines, so a header text in a string is never at the start of a line
    const h = open();
    const head = '{"jsonrpc":"2.0","id":1,"method":"complete","params":{"prompt":"x\\nContent-Length: 5\\n';
    const tail = '"}}';
    const body = Buffer.from(head + 'a'.repeat(MAX_MESSAGE_BYTES + 1 - head.length - tail.length) + tail);
    await h.send(Buffer.concat([frame(body), frame(GOOD)]));
    assert.deepEqual(h.messages, [GOOD]);
    assertReplies(h.errors, refused(MAX_MESSAGE_BYTES + 1), 'header text in the body');
  });
});

describe('ResyncingMessageReader: the stream', () => {
  test('the end of the input fires onClose', async () => {
    const h = open();
    let closed = 0;
    h.reader.onClose(() => closed++);
    await h.send(frame(GOOD));
    h.input.end();
    await new Promise<void>((resolve) => h.input.once('close', () => resolve()));
    assert.equal(closed, 1);
    assert.deepEqual(h.messages, [GOOD]);
  });

  test('a stream error fires onError', async () => {
    const h = open();
    const seen: Error[] = [];
    h.reader.onError((e) => seen.push(e));
    h.input.destroy(new Error('stdin broke'));
    await tick();
    assert.equal(seen.length, 1);
    assert.equal(seen[0].message, 'stdin broke');
  });

  test('after the listener is disposed, nothing more is delivered', async () => {
    const h = open();
    await h.send(frame(GOOD));
    h.listening.dispose();
    await h.send(frame(UTF8), 'garbage\n');
    assert.deepEqual(h.messages, [GOOD]);
    assert.deepEqual(h.errors, []);
  });
});
