// Reading JSON-RPC messages (Content-Length framing) from the engine host's stdin without ever
// getting stuck: vscode-jsonrpc's own reader stops for good at the first malformed header. This one
// answers every malformed frame with a JSON-RPC error and resynchronises at the next header.
import type { Readable } from 'node:stream';
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type ResponseMessage } from 'vscode-jsonrpc/node';
import { ErrorCodes } from './protocol';

/** Larger messages are refused (and their bytes skipped) instead of buffered. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*:/;

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
  const wellFormed = isObject && (typeof m.method === 'string' || 'result' in m || 'error' in m) &&
    (m.id === undefined || id !== null) && (m.params === undefined || (typeof m.params === 'object' && m.params !== null));
  if (!wellFormed) {
    reply(errorReply(id, ErrorCodes.InvalidRequest, 'not a JSON-RPC 2.0 request or notification'));
    return undefined;
  }
  return m as unknown as Message;
}

export class ResyncingMessageReader extends AbstractMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private skip = 0; // bytes of a refused oversized body still to drop
  private callback: DataCallback | undefined;

  constructor(private readonly input: Readable, private readonly reply: ErrorReply) {
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
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length > 0 && this.skip === 0 && this.next()) { /* one frame per turn */ }
  }

  /** Consumes one frame (or one piece of garbage) from the buffer; false when more bytes are needed. */
  private next(): boolean {
    const lineEnd = this.buffer.indexOf('\n');
    const firstLine = this.buffer.subarray(0, lineEnd >= 0 ? lineEnd : Math.min(this.buffer.length, 256)).toString('latin1');
    if (!HEADER_LINE.test(firstLine)) {
      // not a header: drop the line, or the garbage before a header glued to it (the body of a
      // message whose length was unreadable); without a newline yet, wait unless it is too long
      const glued = firstLine.toLowerCase().indexOf('content-length:');
      if (glued < 0 && lineEnd < 0 && this.buffer.length < MAX_HEADER_BYTES) return false;
      const end = glued > 0 ? glued : lineEnd < 0 ? this.buffer.length : lineEnd + 1;
      const junk = this.buffer.subarray(0, end).toString('utf8').trim();
      this.buffer = this.buffer.subarray(end);
      if (junk.length > 0) {
        const id = requestId(junk);
        this.reply(id === null
          ? errorReply(null, ErrorCodes.ParseError, 'expected a "Content-Length: N" header, got a line of other text')
          : errorReply(id, ErrorCodes.InvalidRequest, 'a JSON-RPC message without its Content-Length header'));
      }
      return true;
    }
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) {
      if (this.buffer.length < MAX_HEADER_BYTES) return false;
      this.buffer = Buffer.alloc(0);
      this.reply(errorReply(null, ErrorCodes.ParseError, 'message headers too long'));
      return true;
    }
    const headers = this.buffer.subarray(0, headerEnd).toString('latin1').split('\r\n');
    const lengthHeader = headers.find((h) => /^content-length:/i.test(h));
    const length = lengthHeader ? Number(lengthHeader.slice(lengthHeader.indexOf(':') + 1).trim()) : NaN;
    if (!Number.isSafeInteger(length) || length < 0) {
      this.buffer = this.buffer.subarray(headerEnd + HEADER_END.length);
      this.reply(errorReply(null, ErrorCodes.ParseError, `missing or invalid Content-Length header: ${JSON.stringify(lengthHeader ?? '')}`));
      return true;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    if (length > MAX_MESSAGE_BYTES) {
      const available = this.buffer.length - bodyStart;
      this.skip = Math.max(0, length - available);
      this.buffer = this.buffer.subarray(Math.min(this.buffer.length, bodyStart + length));
      this.reply(errorReply(null, ErrorCodes.InvalidRequest, `message of ${length} bytes refused (limit ${MAX_MESSAGE_BYTES})`));
      return true;
    }
    if (this.buffer.length < bodyStart + length) return false;
    const body = this.buffer.subarray(bodyStart, bodyStart + length);
    this.buffer = this.buffer.subarray(bodyStart + length);
    const message = validateMessage(body, this.reply);
    if (message) this.callback?.(message);
    return true;
  }
}
