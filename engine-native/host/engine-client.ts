// Client side of the engine protocol: spawns the engine host process and talks JSON-RPC to it
// over stdio. Used by the CLI and by the VS Code extension.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter,
  type CancellationToken, type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
  ErrorCodes, Methods, type ChatParams, type CompleteParams, type CompleteResult, type CostPoint, type InitializeParams,
  type InitializeResult, type MeasurePassCostParams, type ModelInfo, type ProgressParams,
} from './protocol';

export interface EngineClientOptions {
  /** dist/engine-host.js; defaults to the one beside this bundle. */
  hostScript?: string;
  /** Receives the host's stderr (llama.cpp warnings, host log), line by line. */
  onStderr?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export type DeltaHandler = (delta: string, tokens: number) => void;

export class EngineClient {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly progress = new Map<string, DeltaHandler>();
  /** Rejects when the process ends: vscode-jsonrpc would leave requests in flight pending forever. */
  private readonly ended: Promise<never>;
  private nextToken = 1;

  constructor(options: EngineClientOptions = {}) {
    const hostScript = options.hostScript ?? path.join(__dirname, 'engine-host.js');
    // process.execPath is Electron in desktop VS Code: ELECTRON_RUN_AS_NODE makes it plain Node.
    // A 1 MB young generation: V8 otherwise grows it to 16 MB per semi-space over thousands of
    // requests, which looks like a leak in an all-day process; the host's garbage is tiny anyway.
    this.process = spawn(process.execPath, ['--max-semi-space-size=1', hostScript], {
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
    this.process.on('error', () => undefined); // surfaced through `exited` and the connection closing
    this.ended = this.exited.then(({ code, signal }) => {
      throw new ResponseError(ErrorCodes.InternalError,
        `the engine process ended during the request (${signal ? `killed by ${signal}` : `exit code ${code}`})`);
    });
    this.ended.catch(() => undefined); // only requests in flight care
    let pending = '';
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) options.onStderr?.(line);
    });
    this.connection = createMessageConnection(
      new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification(Methods.progress, (p: ProgressParams) => this.progress.get(String(p.token))?.(p.delta, p.tokens));
    this.connection.onError(() => undefined);
    this.connection.listen();
  }

  initialize(params: InitializeParams, token?: CancellationToken): Promise<InitializeResult> {
    return this.request(Methods.initialize, params, token);
  }

  complete(params: CompleteParams, onDelta?: DeltaHandler, token?: CancellationToken): Promise<CompleteResult> {
    return this.withProgress(Methods.complete, params, onDelta, token);
  }

  chat(params: ChatParams, onDelta?: DeltaHandler, token?: CancellationToken): Promise<CompleteResult> {
    return this.withProgress(Methods.chat, params, onDelta, token);
  }

  measurePassCost(params: MeasurePassCostParams): Promise<CostPoint[]> {
    return this.request(Methods.measurePassCost, params);
  }

  inspectModel(modelPath: string): Promise<ModelInfo> {
    return this.request(Methods.inspectModel, { path: modelPath });
  }

  /** Asks the host to stop, and kills it if it has not exited within timeoutMs. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    try {
      await Promise.race([this.connection.sendRequest(Methods.shutdown), this.exited]);
      void this.connection.sendNotification('exit');
    } catch {
      this.process.kill('SIGKILL');
    }
    await this.exited;
    clearTimeout(timer);
    this.connection.dispose();
  }

  // vscode-jsonrpc takes a trailing `undefined` for a second positional parameter: pass the token only when given
  private request<R>(method: string, params: object, token?: CancellationToken): Promise<R> {
    const sent = token ? this.connection.sendRequest<R>(method, params, token) : this.connection.sendRequest<R>(method, params);
    return Promise.race([sent, this.ended]);
  }

  private async withProgress<P extends object>(method: string, params: P, onDelta?: DeltaHandler,
    token?: CancellationToken): Promise<CompleteResult> {
    const progressToken = onDelta ? `p${this.nextToken++}` : undefined;
    if (progressToken) this.progress.set(progressToken, onDelta!);
    try {
      return await this.request<CompleteResult>(method, { ...params, progressToken }, token);
    } finally {
      if (progressToken) this.progress.delete(progressToken);
    }
  }
}

export { CancellationTokenSource };
