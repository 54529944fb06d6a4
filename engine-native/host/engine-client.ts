// Client side of the engine protocol. EngineConnection is what every client offers (typed requests,
// progress streaming, the context of a crash); EngineClient spawns its own engine host process and
// talks JSON-RPC to it over stdio (the CLI, and a window with specexec.sharedEngine off);
// ./shared-client.ts connects to a shared engine over its socket.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  CancellationTokenSource,
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type CancellationToken,
  type MessageConnection,
  type RequestParam,
  type RequestType,
} from 'vscode-jsonrpc/node';
import {
  ErrorCodes,
  Notifications,
  Requests,
  type ChatParams,
  type CompleteParams,
  type CompleteResult,
  type CostPoint,
  type EngineStatus,
  type InitializeParams,
  type InitializeResult,
  type MeasurePassCostParams,
  type ModelInfo,
  type RenderPromptResult,
  type WarmParams,
  type WarmResult,
} from './protocol';

export interface EngineClientOptions {
  /** dist/engine-host.js; defaults to the one beside this bundle. */
  hostScript?: string;
  /** Receives the host's stderr (llama.cpp warnings, host log), line by line. */
  onStderr?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** A command the host runs under, e.g. ['nice', '-n', '10'], or a CPU emulator in tests. */
  launcher?: string[];
}

export type DeltaHandler = (delta: string, tokens: number) => void;

/** Lines of the host's stderr kept for the report of a crash. */
const LOG_TAIL_LINES = 20;

/** The data of the error that a request in flight gets when the engine process ends. */
export interface CrashData {
  logTail: string[];
}

/** How the engine went away: a child's exit code or signal; for a shared engine, both null. */
export interface EngineEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** In words, for logs and errors: "killed by SIGKILL", "exit code 1", "the shared engine closed the connection". */
  why: string;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** Keeps the last lines of a log stream, for the report of a crash. */
export function appendLogLines(tail: string[], lines: string[]): void {
  for (const line of lines) {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
  }
}

/** One connection to an engine, however it is reached. */
export abstract class EngineConnection {
  abstract readonly connection: MessageConnection;
  /** Resolves when the engine can no longer answer: its process ended or the connection closed. */
  abstract readonly exited: Promise<EngineEnd>;
  /** The engine's process id. */
  abstract readonly pid: number | undefined;
  /** Whether other clients may share this engine. */
  abstract readonly shared: boolean;
  /** Ends the engine process at once, without asking it (a hung engine cannot answer). */
  abstract kill(): void;
  /** Asks the engine to let this client go (a window's own engine: to stop), and waits for it. */
  abstract shutdown(timeoutMs?: number): Promise<void>;
  protected readonly logTail: string[] = [];
  private readonly progress = new Map<string, DeltaHandler>();
  private readonly inFlight = new Map<number, string>();
  private nextToken = 1;
  private nextRequest = 1;
  /** Why this client killed the engine (a watchdog's verdict), for the requests it ends. */
  private hungBecause: string | undefined;

  /** Call from the subclass's constructor once `connection` exists. */
  protected listen(): void {
    this.connection.onNotification(Notifications.progress, (p) => this.progress.get(String(p.token))?.(p.delta, p.tokens));
    this.connection.onError(() => undefined);
    this.connection.listen();
  }

  /** Kills an engine that stopped responding: the requests in flight fail, saying why. */
  killHung(why: string): void {
    this.hungBecause = why;
    this.kill();
  }

  /** The methods awaiting an answer and the host's last log lines: what a crash report needs. */
  crashContext(): { inFlight: string[]; logTail: string[] } {
    return { inFlight: [...this.inFlight.values()], logTail: this.currentLogTail() };
  }

  protected currentLogTail(): string[] {
    return [...this.logTail];
  }

  initialize(params: InitializeParams, token?: CancellationToken): Promise<InitializeResult> {
    return this.request(Requests.initialize, params, token);
  }

  complete(params: CompleteParams, onDelta?: DeltaHandler, token?: CancellationToken): Promise<CompleteResult> {
    return this.withProgress(Requests.complete, params, onDelta, token);
  }

  chat(params: ChatParams, onDelta?: DeltaHandler, token?: CancellationToken): Promise<CompleteResult> {
    return this.withProgress(Requests.chat, params, onDelta, token);
  }

  measurePassCost(params: MeasurePassCostParams): Promise<CostPoint[]> {
    return this.request(Requests.measurePassCost, params);
  }

  warm(params: WarmParams, token?: CancellationToken): Promise<WarmResult> {
    return this.request(Requests.warm, params, token);
  }

  renderPrompt(params: WarmParams): Promise<RenderPromptResult> {
    return this.request(Requests.renderPrompt, params);
  }

  inspectModel(modelPath: string): Promise<ModelInfo> {
    return this.request(Requests.inspectModel, { path: modelPath });
  }

  status(): Promise<EngineStatus> {
    return this.request(Requests.status, {});
  }

  // vscode-jsonrpc takes a trailing `undefined` for a second positional parameter: pass the token only when given
  protected async request<P, R>(type: RequestType<P, R, void>, params: RequestParam<P>, token?: CancellationToken): Promise<R> {
    const id = this.nextRequest++;
    const method = type.method;
    this.inFlight.set(id, method);
    const sent: Promise<R> = token ? this.connection.sendRequest(type, params, token) : this.connection.sendRequest(type, params);
    // vscode-jsonrpc would leave a request pending forever when the process ends
    // (the log lines go in the error's data: the editor already has them in its log)
    const ended = this.exited.then(({ why }): never => {
      const how = this.hungBecause ? `it stopped responding: ${this.hungBecause}; it was killed` : why;
      throw new ResponseError(ErrorCodes.InternalError, `the engine process ended during the request ${method} (${how})`, {
        logTail: this.currentLogTail(),
      } satisfies CrashData);
    });
    ended.catch(() => undefined); // only while this request waits
    try {
      return await Promise.race([sent, ended]);
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async withProgress<P extends CompleteParams | ChatParams>(
    type: RequestType<P, CompleteResult, void>,
    params: P,
    onDelta?: DeltaHandler,
    token?: CancellationToken,
  ): Promise<CompleteResult> {
    const progressToken = onDelta ? `p${this.nextToken++}` : undefined;
    if (progressToken) this.progress.set(progressToken, onDelta!);
    try {
      return await this.request(type, { ...params, progressToken } as RequestParam<P>, token);
    } finally {
      if (progressToken) this.progress.delete(progressToken);
    }
  }
}

/** A window's (or the CLI's) own engine: a child process on stdio. */
export class EngineClient extends EngineConnection {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<EngineEnd>;
  readonly shared = false;

  constructor(options: EngineClientOptions = {}) {
    super();
    const hostScript = options.hostScript ?? path.join(__dirname, 'engine-host.js');
    // process.execPath is Electron in desktop VS Code: ELECTRON_RUN_AS_NODE makes it plain Node.
    // A 1 MB young generation: V8 otherwise grows it to 16 MB per semi-space over thousands of
    // requests, which looks like a leak in an all-day process; the host's garbage is tiny anyway.
    const [command, ...args] = [...(options.launcher ?? []), process.execPath, '--max-semi-space-size=1', hostScript];
    this.process = spawn(command, args, {
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal, why: describeExit(code, signal) })),
    );
    this.process.on('error', () => undefined); // surfaced through `exited` and the connection closing
    let pending = '';
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      appendLogLines(this.logTail, lines);
      for (const line of lines) options.onStderr?.(line);
    });
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.listen();
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  /** Asks the host to stop, and kills it if it has not exited within timeoutMs. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    try {
      await Promise.race([this.connection.sendRequest(Requests.shutdown), this.exited]);
      void this.connection.sendNotification(Notifications.exit);
    } catch {
      this.process.kill('SIGKILL');
    }
    await this.exited;
    clearTimeout(timer);
    this.connection.dispose();
  }
}

export { CancellationTokenSource };
