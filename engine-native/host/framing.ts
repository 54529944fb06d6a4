// Reading JSON-RPC messages (Content-Length framing) from the engine host's stdin without ever
// getting stuck: vscode-jsonrpc's own reader stops for good at the first malformed header. This one
// answers every malformed frame with a JSON-RPC error and resynchronises at the next header.
import type { Readable } from 'node:stream';
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type ResponseMessage } from 'vscode-jsonrpc/node';
import { ErrorCodes } from './protocol';

/** Larger messages are refused (and their bytes skipped) instead of buffered. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*:/;
// decimal digits only: Number() would also take "0x2", "1e2" and "" (as 0)
const CONTENT_LENGTH = /^content-length:[ \t]*(\d+)[ \t]*$/i;
const HEADER_NAME = 'content-length:';

export type ErrorReply = (response: ResponseMessage) => void;

function errorReply(id: number | string | null, code: number, message: string): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** The id of a JSON-RPC request in `text`, if it is one, so that an error can name it. */
function requestId(text: string): number | string | null {
  try {
    const m = JSON.parse(text) as { id?: unknown };
    return typeof m?.id === 'number' || typeof m?.id === 'string' ? m.id : null;
  } catch {
    return null;
  }
}

/** Checks a decoded body; returns the message, or sends an error reply and returns undefined. */
export function validateMessage(body: Buffer, reply: ErrorReply): Message | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    reply(errorReply(null, ErrorCodes.ParseError, `invalid JSON or UTF-8: ${(e as Error).message}`));
    return undefined;
  }
  const m = value as Record<string, unknown> | null;
  const isObject = typeof m === 'object' && m !== null && !Array.isArray(m);
  const id = isObject && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : null;
  const wellFormed =
    isObject &&
    (typeof m.method === 'string' || 'result' in m || 'error' in m) &&
    (m.id === undefined || id !== null) &&
    (m.params === undefined || (typeof m.params === 'object' && m.params !== null));
  if (!wellFormed) {
    reply(errorReply(id, ErrorCodes.InvalidRequest, 'not a JSON-RPC 2.0 request or notification'));
    return undefined;
  }
  return m as unknown as Message;
}

/** A line that can be a header: "Name: value", with no other header glued into it. */
function isHeaderLine(line: string): boolean {
  return HEADER_LINE.test(line) && line.toLowerCase().indexOf(HEADER_NAME) <= 0;
}

/** Whether `buf` is one whole JSON object: a request sent without its header, most likely. */
function isJsonObject(buf: Buffer): boolean {
  const text = buf.toString('utf8').trim();
  if (!text.endsWith('}')) return false;
  try {
    return typeof JSON.parse(text) === 'object';
  } catch {
    return false;
  }
}

type HeaderBlock =
  | { kind: 'complete'; lines: string[]; end: number }
  | { kind: 'broken'; end: number } // a line at `end` is not a header: the lines before it are dropped
  | { kind: 'incomplete' }
  | { kind: 'tooLong'; lastLine: number }; // where the line that crosses the size limit starts

/**
 * Reads the header block at the start of `buf` line by line. A line may end in "\r\n" or a bare
 * "\n", as lenient LSP readers allow, and the block ends at the first empty line: searching for
 * "\r\n\r\n" instead would join a stray "Error: oops\n" to the next frame's headers and lose it.
 */
function readHeaders(buf: Buffer): HeaderBlock {
  const lines: string[] = [];
  for (let start = 0; ;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0 || nl >= MAX_HEADER_BYTES) {
      return buf.length >= MAX_HEADER_BYTES ? { kind: 'tooLong', lastLine: start } : { kind: 'incomplete' };
    }
    const line = buf.subarray(start, nl).toString('latin1').replace(/\r$/, '');
    if (line === '') return { kind: 'complete', lines, end: nl + 1 };
    if (!isHeaderLine(line)) return { kind: 'broken', end: start };
    lines.push(line);
    start = nl + 1;
  }
}

/** Whether the 15 bytes at `at` spell "Content-Length:" in any case. */
function isHeaderNameAt(buf: Buffer, at: number): boolean {
  return (
    buf
      .subarray(at, at + HEADER_NAME.length)
      .toString('latin1')
      .toLowerCase() === HEADER_NAME
  );
}

/** Where the first "Content-Length:" right after a "\n" in `buf` starts, or -1. */
function headerAfterNewline(buf: Buffer): number {
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, nl + 1)) {
    if (isHeaderNameAt(buf, nl + 1)) return nl + 1;
  }
  return -1;
}

/** Where a "\n" that may begin such a header, cut off by the end of `buf`, starts; else buf.length. */
function partialHeaderAtEnd(buf: Buffer): number {
  const nl = buf.lastIndexOf(0x0a);
  if (nl < 0 || buf.length - nl > HEADER_NAME.length) return buf.length;
  return HEADER_NAME.startsWith(
    buf
      .subarray(nl + 1)
      .toString('latin1')
      .toLowerCase(),
  )
    ? nl
    : buf.length;
}

export class ResyncingMessageReader extends AbstractMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  // Chunks not yet joined to the buffer: a large body is joined once, when complete, since joining
  // at every chunk copies the buffer over and over (quadratic in the size of the body).
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private wanted = 0; // the buffer length at which the frame being read is complete
  private skip = 0; // bytes of a refused oversized body still to drop (see refuse)
  private callback: DataCallback | undefined;

  constructor(
    private readonly input: Readable,
    private readonly reply: ErrorReply,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.onData(chunk);
    const onClose = () => this.fireClose();
    const onError = (e: Error) => this.fireError(e);
    this.input.on('data', onData);
    this.input.on('close', onClose);
    this.input.on('error', onError);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('close', onClose);
      this.input.off('error', onError);
    });
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.buffer.length + this.chunkBytes < this.wanted) return;
    this.buffer = this.buffer.length === 0 && this.chunks.length === 1 ? chunk : Buffer.concat([this.buffer, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = 0;
    this.wanted = 0;
    while (this.buffer.length > 0 && this.next()) {
      /* one frame per turn */
    }
  }

  /** Consumes one frame (or one piece of garbage) from the buffer; false when more bytes are needed. */
  private next(): boolean {
    if (this.skip > 0) return this.discard();
    const lineEnd = this.buffer.indexOf('\n');
    const firstLine = this.buffer.subarray(0, lineEnd >= 0 ? lineEnd : Math.min(this.buffer.length, 256)).toString('latin1');
    return isHeaderLine(firstLine) ? this.readFrame() : this.dropJunk(firstLine, lineEnd);
  }

  /**
   * Drops a line that is not a header, or the garbage before a header glued to it (the body of a
   * message whose length was unreadable), with one error reply.
   */
  private dropJunk(firstLine: string, lineEnd: number): boolean {
    const glued = firstLine.toLowerCase().indexOf(HEADER_NAME);
    let end = glued > 0 ? glued : lineEnd + 1;
    if (end === 0) {
      // no newline yet: wait for it, so that a line arriving in pieces draws one error, not one a
      // piece; but a line too long to be a header, or a whole JSON object, cannot become one
      if (this.buffer.length < MAX_HEADER_BYTES && !isJsonObject(this.buffer)) return false;
      end = this.buffer.length;
    }
    const junk = this.buffer.subarray(0, end).toString('utf8').trim();
    this.buffer = this.buffer.subarray(end);
    if (junk.length > 0) {
      const id = requestId(junk);
      this.reply(
        id === null
          ? errorReply(null, ErrorCodes.ParseError, 'expected a "Content-Length: N" header, got a line of other text')
          : errorReply(id, ErrorCodes.InvalidRequest, 'a JSON-RPC message without its Content-Length header'),
      );
    }
    return true;
  }

  /** Reads the frame whose header block starts the buffer. */
  private readFrame(): boolean {
    const block = readHeaders(this.buffer);
    switch (block.kind) {
      case 'incomplete':
        return false;
      case 'broken':
        // the line that broke the block draws the error, as junk, on the next turn
        this.buffer = this.buffer.subarray(block.end);
        return true;
      case 'tooLong': {
        // resynchronise at a header glued onto the long line, if one came in the same chunk
        const next = this.buffer
          .toString('latin1')
          .toLowerCase()
          .indexOf(HEADER_NAME, block.lastLine + 1);
        this.buffer = next > 0 ? this.buffer.subarray(next) : Buffer.alloc(0);
        this.reply(errorReply(null, ErrorCodes.ParseError, 'message headers too long'));
        return true;
      }
      case 'complete':
        return this.readBody(block.lines, block.end);
    }
  }

  private readBody(headers: string[], bodyStart: number): boolean {
    const lengthHeader = headers.find((h) => h.toLowerCase().startsWith(HEADER_NAME));
    const digits = lengthHeader?.match(CONTENT_LENGTH)?.[1];
    if (digits === undefined) {
      this.buffer = this.buffer.subarray(bodyStart);
      this.reply(
        errorReply(null, ErrorCodes.ParseError, `missing or invalid Content-Length header: ${JSON.stringify(lengthHeader ?? '')}`),
      );
      return true;
    }
    const length = Number(digits); // perhaps far above 2^53, or Infinity: only compared with the limit then
    if (length > MAX_MESSAGE_BYTES) return this.refuse(digits, bodyStart);
    if (this.buffer.length < bodyStart + length) {
      this.wanted = bodyStart + length;
      return false;
    }
    const body = this.buffer.subarray(bodyStart, bodyStart + length);
    this.buffer = this.buffer.subarray(bodyStart + length);
    const message = validateMessage(body, this.reply);
    if (message) this.callback?.(message);
    return true;
  }

  /**
   * Refuses a body over the limit without buffering it. Its length is not trusted (it may be absurd,
   * or the body may never come), so its bytes are dropped until that many have passed or, sooner, a
   * "Content-Length:" at the start of a line: never inside a JSON body, which has no raw newlines.
   */
  private refuse(digits: string, bodyStart: number): boolean {
    this.reply(errorReply(null, ErrorCodes.InvalidRequest, `message of ${digits} bytes refused (limit ${MAX_MESSAGE_BYTES})`));
    // keep the "\n" that ended the headers, so that a frame right at the body's start follows one too
    this.buffer = this.buffer.subarray(bodyStart - 1);
    this.skip = Math.min(Number(digits), Number.MAX_SAFE_INTEGER) + 1;
    return true;
  }

  /** Drops bytes of a refused body (see refuse) up to its end or the next header. */
  private discard(): boolean {
    const body = this.buffer.subarray(0, Math.min(this.buffer.length, this.skip));
    const header = headerAfterNewline(body);
    if (header >= 0 || body.length === this.skip) {
      this.buffer = this.buffer.subarray(header >= 0 ? header : body.length);
      this.skip = 0;
      return true;
    }
    // all of the buffer is body: drop it, but for a header that may be starting in its last bytes
    const keep = partialHeaderAtEnd(body);
    this.skip -= keep;
    this.buffer = this.buffer.subarray(keep);
    return false;
  }
}
