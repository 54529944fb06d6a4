// Client side of the engine protocol: spawns the engine host process and talks JSON-RPC to it
// over stdio. Used by the CLI and by the VS Code extension.
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
  type InitializeParams,
  type InitializeResult,
  type MeasurePassCostParams,
  type ModelInfo,
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

export class EngineClient {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly progress = new Map<string, DeltaHandler>();
  private readonly inFlight = new Map<number, string>();
  private readonly logTail: string[] = [];
  private nextToken = 1;
  private nextRequest = 1;

  constructor(options: EngineClientOptions = {}) {
    const hostScript = options.hostScript ?? path.join(__dirname, 'engine-host.js');
    // process.execPath is Electron in desktop VS Code: ELECTRON_RUN_AS_NODE makes it plain Node.
    // A 1 MB young generation: V8 otherwise grows it to 16 MB per semi-space over thousands of
    // requests, which looks like a leak in an all-day process; the host's garbage is tiny anyway.
    const [command, ...args] = [...(options.launcher ?? []), process.execPath, '--max-semi-space-size=1', hostScript];
    this.process = spawn(command, args, {
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
    this.process.on('error', () => undefined); // surfaced through `exited` and the connection closing
    let pending = '';
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        this.logTail.push(line);
        if (this.logTail.length > LOG_TAIL_LINES) this.logTail.shift();
        options.onStderr?.(line);
      }
    });
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification(Notifications.progress, (p) => this.progress.get(String(p.token))?.(p.delta, p.tokens));
    this.connection.onError(() => undefined);
    this.connection.listen();
  }

  /** The methods awaiting an answer and the host's last log lines: what a crash report needs. */
  crashContext(): { inFlight: string[]; logTail: string[] } {
    return { inFlight: [...this.inFlight.values()], logTail: [...this.logTail] };
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

  inspectModel(modelPath: string): Promise<ModelInfo> {
    return this.request(Requests.inspectModel, { path: modelPath });
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

  // vscode-jsonrpc takes a trailing `undefined` for a second positional parameter: pass the token only when given
  private async request<P, R>(type: RequestType<P, R, void>, params: RequestParam<P>, token?: CancellationToken): Promise<R> {
    const id = this.nextRequest++;
    const method = type.method;
    this.inFlight.set(id, method);
    const sent: Promise<R> = token ? this.connection.sendRequest(type, params, token) : this.connection.sendRequest(type, params);
    // vscode-jsonrpc would leave a request pending forever when the process ends
    // (the log lines go in the error's data: the editor already has them in its log)
    const ended = this.exited.then(({ code, signal }): never => {
      throw new ResponseError(
        ErrorCodes.InternalError,
        `the engine process ended during the request ${method} ` + `(${signal ? `killed by ${signal}` : `exit code ${code}`})`,
        { logTail: [...this.logTail] } satisfies CrashData,
      );
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

export { CancellationTokenSource };
