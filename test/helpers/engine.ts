// Starting real engine host processes (dist/engine-host.js) for tests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../engine-native/host/engine-client';
import type { InitializeParams } from '../../engine-native/host/protocol';
import { ROOT, testModelPair } from './models';

export const HOST_SCRIPT = path.join(ROOT, 'dist', 'engine-host.js');

/** Resident memory of a process, from /proc (Linux). */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Signals that mean the engine crashed; the tests themselves send only SIGKILL, SIGTERM and SIGSTOP. */
const CRASH_SIGNALS = new Set(['SIGILL', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGABRT', 'SIGTRAP', 'SIGSYS']);

/** A real engine host process; `launcher` runs it under another command (an emulated CPU). */
export function startEngine(env?: NodeJS.ProcessEnv, launcher?: string[]): EngineClient {
  const client = new EngineClient({
    hostScript: HOST_SCRIPT,
    env,
    launcher,
    onStderr: (l) => {
      if (process.env.SPECEXEC_VERBOSE) console.error(l);
    },
  });
  reportCrash(client);
  return client;
}

/** An engine host with the random test pair loaded, initialized with `init` besides the model paths. */
export async function startTestPairEngine(init: Omit<InitializeParams, 'targetModelPath' | 'draftModelPath'>): Promise<EngineClient> {
  const { target, draft } = testModelPair();
  const client = startEngine();
  await client.initialize({ targetModelPath: target, draftModelPath: draft, ...init });
  return client;
}

/** A crash anywhere in the suite names its signal, the methods in flight and the engine's last log lines. */
function reportCrash(client: EngineClient): void {
  void client.exited.then(({ signal }) => {
    if (signal === null || !CRASH_SIGNALS.has(signal)) return;
    const { inFlight, logTail } = client.crashContext();
    console.error(
      `engine host ${client.process.pid} crashed: killed by ${signal} during ` +
        `${inFlight.join(', ') || 'no request'}; its last log lines:\n${logTail.map((l) => `  ${l}`).join('\n')}`,
    );
  });
}

/** A host process spoken to with raw bytes, for malformed-protocol tests. */
export class RawHost {
  readonly proc: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private waiters: ((m: Record<string, unknown>) => void)[] = [];
  private messages: Record<string, unknown>[] = [];

  constructor() {
    this.proc = spawn(process.execPath, [HOST_SCRIPT], { stdio: 'pipe' });
    this.proc.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  sendRaw(body: string | Buffer): void {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    this.proc.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]));
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** The next message from the host (responses and notifications, in order). */
  next(timeoutMs = 20000): Promise<Record<string, unknown>> {
    const m = this.messages.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message from the engine host')), timeoutMs);
      this.waiters.push((msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
  }

  /** The next response (skipping notifications). */
  async response(timeoutMs = 20000): Promise<Record<string, unknown>> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if ('id' in m) return m;
    }
  }

  async close(): Promise<void> {
    this.proc.kill();
    await new Promise((r) => this.proc.once('exit', r));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      const waiter = this.waiters.shift();
      if (waiter) waiter(body);
      else this.messages.push(body);
    }
  }
}
