// A connection to the shared engine of this user and configuration (./shared-server.ts): connects
// to its socket, or starts it (a detached engine host that outlives this window) and connects once
// it listens. Windows that race to start it all end up on the one engine that took the start lock.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { appendLogLines, EngineConnection, type EngineEnd } from './engine-client';
import { Notifications, Requests } from './protocol';
import { ensurePrivateDir, type SharedEndpoint } from './shared-endpoint';

export interface SharedClientOptions {
  endpoint: SharedEndpoint;
  /** dist/engine-host.js; defaults to the one beside this bundle. */
  hostScript?: string;
  env?: NodeJS.ProcessEnv;
  /** How long the engine stays after its last client leaves. */
  idleExitMs: number;
  /** How long to wait for a started engine to listen (it loads no model before `initialize`). */
  startTimeoutMs?: number;
  /** Told when this client starts the engine (rather than finding it running). */
  onStart?: (logPath: string) => void;
}

const DEFAULT_START_TIMEOUT_MS = 20_000;
/** Between connection attempts while an engine starts; randomised so that windows restarting together spread out. */
const RETRY_MIN_MS = 50;
const RETRY_SPREAD_MS = 150;
/** Connections that close before they answer (an engine exiting just then) are retried this many times. */
const CONNECT_ATTEMPTS = 3;
/** A log read for a crash report reads at most this much of the file's end. */
const LOG_READ_BYTES = 64 * 1024;

export class SharedEngineClient extends EngineConnection {
  readonly connection: MessageConnection;
  readonly exited: Promise<EngineEnd>;
  readonly shared = true;
  private enginePid: number | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly endpoint: SharedEndpoint,
  ) {
    super();
    this.exited = new Promise((resolve) =>
      socket.once('close', () =>
        resolve({ code: null, signal: null, why: `the shared engine (pid ${this.enginePid}) closed the connection` }),
      ),
    );
    socket.on('error', () => undefined); // 'close' follows
    this.connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    this.listen();
  }

  /** Connects to the engine of `endpoint`, starting it when none listens. */
  static async connect(options: SharedClientOptions): Promise<SharedEngineClient> {
    ensurePrivateDir(path.dirname(options.endpoint.socketPath));
    for (let attempt = 1; ; attempt++) {
      const socket = (await tryConnect(options.endpoint.socketPath)) ?? (await startAndConnect(options));
      const client = new SharedEngineClient(socket, options.endpoint);
      try {
        client.enginePid = (await client.status()).pid;
        return client;
      } catch (e) {
        // an engine that was exiting (its idle time ran out) as we connected: the next attempt starts a new one
        if (attempt >= CONNECT_ATTEMPTS) throw e;
      }
    }
  }

  get pid(): number | undefined {
    return this.enginePid;
  }

  kill(): void {
    if (this.enginePid !== undefined) process.kill(this.enginePid, 'SIGKILL');
  }

  /** This client leaves; the engine stays for the others (and exits after its idle time without any). */
  async shutdown(timeoutMs = 3000): Promise<void> {
    if (this.socket.destroyed) return;
    const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
    try {
      await Promise.race([this.connection.sendRequest(Requests.shutdown), this.exited]);
      await this.connection.sendNotification(Notifications.exit);
    } catch {
      // the engine is gone or hung: closing our end is all that is left to do
    }
    this.socket.end();
    await this.exited;
    clearTimeout(timer);
    this.connection.dispose();
  }

  /** The shared engine's stderr goes to its log file: its last lines, for a crash report. */
  protected override currentLogTail(): string[] {
    const tail: string[] = [];
    appendLogLines(tail, readLogEnd(this.endpoint.logPath).split('\n').filter(Boolean));
    return tail;
  }
}

function readLogEnd(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > LOG_READ_BYTES ? text.slice(-LOG_READ_BYTES) : text;
  } catch {
    return '';
  }
}

/** A connected socket, or undefined when nothing listens there (no file, or a dead engine's file). */
function tryConnect(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(undefined));
  });
}

async function startAndConnect(options: SharedClientOptions): Promise<net.Socket> {
  const { endpoint } = options;
  const hostScript = options.hostScript ?? path.join(__dirname, 'engine-host.js');
  const log = openSync(endpoint.logPath, 'a', 0o600);
  // detached: its own process group, so it outlives this window and no terminal signal reaches it
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=1', hostScript, '--listen', endpoint.socketPath, '--idle-exit-ms', String(options.idleExitMs)],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
  closeSync(log);
  child.unref();
  options.onStart?.(endpoint.logPath);
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.once('error', (e) => (exit = e.message));
  const deadline = Date.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, RETRY_MIN_MS + Math.random() * RETRY_SPREAD_MS));
    const socket = await tryConnect(endpoint.socketPath);
    if (socket) return socket;
    // exit code 0 is an engine that found another one starting: keep trying to reach that one
    if (exit !== undefined && exit !== 'exit code 0') break;
  }
  const tail = readLogEnd(endpoint.logPath).trim().split('\n').slice(-5).join('\n');
  throw new Error(`the shared engine did not start (${exit ?? 'no answer on its socket'}); its log ${endpoint.logPath} ends:\n${tail}`);
}
