// The engine lifecycle: one object owns the engine host process. It starts it lazily, restarts it
// with backoff after a crash, gives up after 5 crashes in 60 s, does not retry a load the engine
// refused until its inputs change, reloads models when their settings change and stops the process
// on dispose. All engine requests go through here. It only reports failures (the 'error' state
// with an EngineError, rejected promises, the log); the context tells the user.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancellationTokenSource, EngineClient, type DeltaHandler } from '../engine-native/host/engine-client';
import {
  describeCpu,
  ErrorCodes,
  type ChatParams,
  type CompleteParams,
  type CompleteResult,
  type InitializeResult,
} from '../engine-native/host/protocol';
import { CrashHistory } from './backoff';
import { engineConfig, initializeParams, type EngineConfig } from './config';
import { EngineError, isCancellation, toEngineError } from './errors';
import { FailedLoad, type LoadInputs } from './models';

export type EngineState = 'stopped' | 'starting' | 'ready' | 'generating' | 'error';

export interface EngineStats {
  tokensPerSecond: number;
  tokensPerTargetPass: number;
  budget: number;
  tokens: number;
  elapsedMs: number;
}

/** "target 0/33 layers on Vulkan0 (…)" or "CPU only", for the log. */
function offloadSummary(info: InitializeResult): string {
  const gpus = info.offload.devices.filter((d) => d.type === 'gpu' || d.type === 'igpu');
  if (gpus.length === 0) return 'CPU only';
  const o = info.offload;
  return (
    `target ${o.targetGpuLayers}/${o.targetLayers} layers` +
    (o.draftLayers !== null ? `, draft ${o.draftGpuLayers}/${o.draftLayers}` : '') +
    ` on ${gpus.map((d) => `${d.name} (${d.description})`).join(', ')}` +
    (o.vramBudgetMiB !== null ? ` for a ${o.vramBudgetMiB} MiB budget` : '')
  );
}

export class Engine implements vscode.Disposable {
  private client: EngineClient | undefined;
  private starting: Promise<{ client: EngineClient; info: InitializeResult }> | undefined;
  private readonly crashes = new CrashHistory();
  private readonly failedLoad = new FailedLoad();
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private active = 0;
  private disposed = false;
  private _state: EngineState = 'stopped';
  private _error: EngineError | undefined;
  private _info: InitializeResult | undefined;
  private _stats: EngineStats | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  /** Fires on every state change (and after each generation with new stats). */
  readonly onDidChangeState = this.stateEmitter.event;
  private restartCount = 0;
  private gaveUpAfterCrashes = false;

  constructor(
    private readonly extensionPath: string,
    private readonly output: vscode.OutputChannel,
  ) {}

  get state(): EngineState {
    return this._state;
  }
  /** Why the engine is in the 'error' state (or restarting after a crash). */
  get error(): EngineError | undefined {
    return this._error;
  }
  get info(): InitializeResult | undefined {
    return this._info;
  }
  get stats(): EngineStats | undefined {
    return this._stats;
  }
  get pid(): number | undefined {
    return this.client?.process.pid;
  }
  get restarts(): number {
    return this.restartCount;
  }
  /** True after too many crashes: no restart until the user asks for one. */
  get gaveUp(): boolean {
    return this.gaveUpAfterCrashes;
  }

  private setState(s: EngineState, error?: EngineError): void {
    this._state = s;
    this._error = error;
    this.stateEmitter.fire(s);
  }

  private log(line: string): void {
    const text = `[${new Date().toISOString().slice(11, 23)}] ${line}`;
    this.output.appendLine(text);
    if (process.env.SPECEXEC_LOG_CONSOLE === '1') console.log(`SpecExec ${text}`);
  }

  /** The running engine, started (and its models loaded) on first use. */
  async ensure(): Promise<{ client: EngineClient; info: InitializeResult }> {
    if (this.disposed) throw new EngineError('the extension is shutting down');
    if (this.client && this._info && this.starting === undefined) return { client: this.client, info: this._info };
    if (this.gaveUpAfterCrashes) throw this._error ?? new EngineError('the engine stopped after repeated crashes');
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<{ client: EngineClient; info: InitializeResult }> {
    const config = engineConfig();
    const inputs: LoadInputs = { params: initializeParams(config), nativeBuild: config.nativeBuild };
    const refused = this.failedLoad.errorFor(inputs);
    if (refused) throw refused; // the 'error' state has shown it since the engine refused it
    this.setState('starting');
    const hostScript = path.join(this.extensionPath, 'dist', 'engine-host.js');
    this.log(`starting ${process.execPath} ${hostScript}`);
    const client = new EngineClient({
      hostScript,
      onStderr: (line) => this.output.appendLine(line),
      env: config.nativeBuild ? { SPECEXEC_NATIVE_BUILD: config.nativeBuild } : undefined,
    });
    this.client = client;
    void client.exited.then(({ code, signal }) => this.onExit(client, code, signal));
    try {
      const started = Date.now();
      const info = await client.initialize(inputs.params);
      if (this.client !== client) throw new EngineError('the engine was restarted while loading');
      this._info = info;
      this.log(
        `ready in ${Date.now() - started} ms: target ${info.target.name || path.basename(info.target.path)} ` +
          `(${info.target.architecture}, ${(info.target.parameters / 1e6).toFixed(1)}M params, FIM ${info.target.fim ? 'yes' : 'no'})` +
          (info.draft ? `, draft ${info.draft.name || path.basename(info.draft.path)}` : ', no draft') +
          `, ${info.threads} threads, context ${info.contextSize}, ${offloadSummary(info)}, CPU kernels ${describeCpu(info.cpu)}`,
      );
      this.setState(this.active > 0 ? 'generating' : 'ready');
      return { client, info };
    } catch (e) {
      const error = toEngineError(e);
      this.log(`initialize failed: ${error.message}`);
      if (this.client === client) {
        // the engine answered (it did not crash, nor was it replaced): the same load fails the same way
        this.failedLoad.remember(inputs, error);
        this.client = undefined;
        this._info = undefined;
        this.setState('error', error);
        void client.shutdown(1000);
      }
      throw error;
    }
  }

  private onExit(client: EngineClient, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.client !== client) return; // a replaced or deliberately stopped process
    this.client = undefined;
    this._info = undefined;
    if (this.disposed) return;
    const verdict = this.crashes.record();
    const why = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.log(`engine process ${client.process.pid} ended unexpectedly (${why}); ${verdict.recent} crash(es) in the last 60 s`);
    if (verdict.giveUp) {
      this.gaveUpAfterCrashes = true;
      this.setState(
        'error',
        new EngineError(
          `the engine crashed ${verdict.recent} times within 60 s (last: ${why}); ` +
            'completions are off until you restart it. The log may say why (a model too large for memory, a broken GGUF file).',
        ),
      );
      return;
    }
    this.setState('starting', new EngineError(`restarting after a crash (${why})`));
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartCount++;
      this.ensure().catch(() => undefined);
    }, verdict.delayMs);
  }

  /** Stops the process (if any) and starts a fresh one; forgets earlier crashes and a refused load. */
  async restart(): Promise<void> {
    this.forgetFailures();
    await this.stop();
    this.restartCount++;
    await this.ensure();
  }

  /** Reloads the models after their settings changed (lazily: on the next request). */
  async reload(): Promise<void> {
    this.forgetFailures();
    await this.stop();
    this.log('model settings changed: the engine reloads on next use');
  }

  private forgetFailures(): void {
    clearTimeout(this.restartTimer);
    this.crashes.clear();
    this.gaveUpAfterCrashes = false;
    this.failedLoad.forget();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this._info = undefined;
    if (client) await client.shutdown(2000).catch(() => undefined);
    if (!this.disposed) this.setState('stopped');
  }

  get engineConfig(): EngineConfig {
    return engineConfig();
  }

  async complete(params: CompleteParams, onDelta?: DeltaHandler, token?: vscode.CancellationToken): Promise<CompleteResult> {
    return this.generate((client, t) => client.complete(params, onDelta, t), token);
  }

  async chat(params: ChatParams, onDelta?: DeltaHandler, token?: vscode.CancellationToken): Promise<CompleteResult> {
    return this.generate((client, t) => client.chat(params, onDelta, t), token);
  }

  private async generate(
    run: (client: EngineClient, token: import('vscode-jsonrpc').CancellationToken) => Promise<CompleteResult>,
    token?: vscode.CancellationToken,
  ): Promise<CompleteResult> {
    const { client } = await this.ensure();
    if (token?.isCancellationRequested) throw new EngineError('cancelled', ErrorCodes.RequestCancelled);
    // vscode's token -> a JSON-RPC token: cancelling sends $/cancelRequest to the engine
    const source = new CancellationTokenSource();
    const sub = token?.onCancellationRequested(() => source.cancel());
    this.active++;
    if (this._state === 'ready') this.setState('generating');
    try {
      // EngineClient ends a request in flight when the process dies
      const result = await run(client, source.token);
      if (result.stats.tokens > 0) {
        this._stats = {
          tokensPerSecond: result.stats.tokensPerSecond,
          tokensPerTargetPass: result.stats.tokensPerTargetPass,
          budget: result.stats.budget,
          tokens: result.stats.tokens,
          elapsedMs: result.stats.elapsedMs,
        };
      }
      return result;
    } catch (e) {
      const error = toEngineError(e);
      if (!isCancellation(error)) this.log(`request failed: ${error.message}`); // notifications are rate-limited, the log is not
      throw error;
    } finally {
      sub?.dispose();
      source.dispose();
      this.active--;
      if (this.active === 0 && this._state === 'generating') this.setState('ready');
      else this.stateEmitter.fire(this._state);
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    if (client) void client.shutdown(2000).catch(() => undefined);
    this.stateEmitter.dispose();
  }

  /** For deactivate(): resolves when the process is gone. */
  async disposeAsync(): Promise<void> {
    const client = this.client;
    this.dispose();
    if (client) await client.exited;
  }
}
