// The engine lifecycle: one object owns this window's connection to the engine: the shared engine
// of its settings (a process of its own on a private socket, ../engine-native/host/shared-*.ts), or
// a child process of this window's own. It connects lazily, restarts after a crash with backoff
// (and, for a shared engine, a random spread, so that the windows of a crashed engine do not all
// start one), kills an engine its watchdog finds hung and restarts it the same way, gives up after
// 5 crashes in 60 s, does not retry a load the engine refused until its inputs change, reloads
// models when their settings change and lets the engine go on dispose. All engine requests go
// through here. It only reports failures (the 'error' state with an EngineError, rejected
// promises, the log); the context tells the user.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CancellationTokenSource,
  EngineClient,
  type DeltaHandler,
  type EngineConnection,
  type EngineEnd,
} from '../engine-native/host/engine-client';
import {
  describeCpu,
  describeEngineProcess,
  ErrorCodes,
  type ChatParams,
  type CompleteParams,
  type CompleteResult,
  type EngineStatus,
  type InitializeParams,
  type InitializeResult,
  type RenderPromptResult,
  type WarmParams,
  type WarmResult,
} from '../engine-native/host/protocol';
import { SharedEngineClient } from '../engine-native/host/shared-client';
import { endpointFor, SharedEndpointError, sharingSupported } from '../engine-native/host/shared-endpoint';
import { EngineWatchdog, stallBoundMs } from '../engine-native/host/watchdog';
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

/** Windows of a crashed shared engine restart within this much of each other: the first starts it, the others find it. */
const SHARED_RESTART_SPREAD_MS = 1000;
/** The engine's status (windows sharing it, memory) is asked for after a generation at most this often. */
const STATUS_REFRESH_MS = 5000;

export class Engine implements vscode.Disposable {
  private client: EngineConnection | undefined;
  private watchdog: EngineWatchdog | undefined;
  private starting: Promise<{ client: EngineConnection; info: InitializeResult }> | undefined;
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
  private readonly hangEmitter = new vscode.EventEmitter<EngineError>();
  /** Fires when the watchdog finds the engine hung (it is then killed and restarted as after a crash). */
  readonly onDidHang = this.hangEmitter.event;
  private restartCount = 0;
  private gaveUpAfterCrashes = false;
  private _engineStatus: EngineStatus | undefined;
  private statusAt = 0;

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
    return this.client?.pid;
  }
  /** Whether this window uses a shared engine (undefined while none is connected). */
  get shared(): boolean | undefined {
    return this.client?.shared;
  }
  /** The engine's own account, as of its last refresh: its process, the windows sharing it, its memory. */
  get engineStatus(): EngineStatus | undefined {
    return this._engineStatus;
  }

  /** Asks the engine for its status (throttled unless `force`); listeners hear of the change. */
  async refreshStatus(force = false): Promise<EngineStatus | undefined> {
    const client = this.client;
    if (!client || !this._info) return undefined;
    if (!force && Date.now() - this.statusAt < STATUS_REFRESH_MS) return this._engineStatus;
    this.statusAt = Date.now();
    try {
      const status = await client.status();
      if (this.client === client) {
        this._engineStatus = status;
        this.stateEmitter.fire(this._state);
      }
      return status;
    } catch {
      return undefined; // the engine went away: its exit path reports it
    }
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
  async ensure(): Promise<{ client: EngineConnection; info: InitializeResult }> {
    if (this.disposed) throw new EngineError('the extension is shutting down');
    if (this.client && this._info && this.starting === undefined) return { client: this.client, info: this._info };
    if (this.gaveUpAfterCrashes) throw this._error ?? new EngineError('the engine stopped after repeated crashes');
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<{ client: EngineConnection; info: InitializeResult }> {
    const config = engineConfig();
    const inputs: LoadInputs = { params: initializeParams(config), nativeBuild: config.nativeBuild };
    const refused = this.failedLoad.errorFor(inputs);
    if (refused) throw refused; // the 'error' state has shown it since the engine refused it
    this.setState('starting');
    let client: EngineConnection;
    try {
      client = await this.connect(config, inputs.params);
    } catch (e) {
      const error = new EngineError(`cannot reach the engine: ${toEngineError(e).message}`);
      this.log(error.message);
      this.setState('error', error); // not remembered: the next request tries again
      throw error;
    }
    if (this.disposed) {
      void client.shutdown(1000);
      throw new EngineError('the extension is shutting down');
    }
    this.client = client;
    void client.exited.then((end) => this.onExit(client, end));
    try {
      const started = Date.now();
      const info = await client.initialize(inputs.params);
      if (this.client !== client) throw new EngineError('the engine was restarted while loading');
      this._info = info;
      this.watch(client, info);
      this.log(
        `ready in ${Date.now() - started} ms: target ${info.target.name || path.basename(info.target.path)} ` +
          `(${info.target.architecture}, ${(info.target.parameters / 1e6).toFixed(1)}M params, FIM ${info.target.fim ? 'yes' : 'no'})` +
          (info.draft ? `, draft ${info.draft.name || path.basename(info.draft.path)}` : ', no draft') +
          `, ${info.threads} threads, context ${info.contextSize}, ${offloadSummary(info)}, CPU kernels ${describeCpu(info.cpu)}`,
      );
      this.setState(this.active > 0 ? 'generating' : 'ready');
      void this.refreshStatus(true).then((s) => s && this.log(`engine: ${describeEngineProcess(s)}`));
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

  /** This window's own engine, or the shared engine of these settings (started if none runs). */
  private async connect(config: EngineConfig, params: InitializeParams): Promise<EngineConnection> {
    const hostScript = path.join(this.extensionPath, 'dist', 'engine-host.js');
    const env = config.nativeBuild ? { SPECEXEC_NATIVE_BUILD: config.nativeBuild } : undefined;
    if (config.sharedEngine && sharingSupported()) {
      try {
        const endpoint = endpointFor(params, hostScript, { ...process.env, ...env });
        const client = await SharedEngineClient.connect({
          endpoint,
          hostScript,
          env,
          idleExitMs: config.sharedEngineIdleMs,
          onStart: (logPath) => this.log(`starting a shared engine (${process.execPath} ${hostScript}); its log: ${logPath}`),
        });
        this.log(`connected to the shared engine, pid ${client.pid}, on ${endpoint.socketPath}`);
        return client;
      } catch (e) {
        if (!(e instanceof SharedEndpointError)) throw e;
        this.log(`${e.message}; this window runs its own engine`);
      }
    }
    this.log(`starting ${process.execPath} ${hostScript}`);
    return new EngineClient({ hostScript, onStderr: (line) => this.output.appendLine(line), env });
  }

  /** Pings the engine while requests are in flight; one that stops answering or making progress is killed (and restarted as after a crash). */
  private watch(client: EngineConnection, info: InitializeResult): void {
    this.watchdog?.dispose();
    this.watchdog = new EngineWatchdog({
      ping: () => client.status(),
      stallBoundMs: stallBoundMs(info.calibration),
      onHung: (why) => {
        if (this.client !== client) return;
        this.log(`the engine (pid ${client.pid}) stopped responding: ${why}; killing it`);
        // the same code as the failure of the requests it ends: the user hears of it once
        this.hangEmitter.fire(
          new EngineError(`the engine stopped responding (${why}); it is restarted. The document is unchanged.`, ErrorCodes.InternalError),
        );
        client.killHung(why);
      },
    });
  }

  private onExit(client: EngineConnection, end: EngineEnd): void {
    if (this.client !== client) return; // a replaced or deliberately stopped process
    this.client = undefined;
    this._info = undefined;
    this._engineStatus = undefined;
    this.watchdog?.dispose();
    this.watchdog = undefined;
    if (this.disposed) return;
    const verdict = this.crashes.record();
    const why = end.why;
    this.log(`engine process ${client.pid} ended unexpectedly (${why}); ${verdict.recent} crash(es) in the last 60 s`);
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
    const spread = client.shared ? Math.random() * SHARED_RESTART_SPREAD_MS : 0;
    this.restartTimer = setTimeout(() => {
      this.restartCount++;
      this.ensure().catch(() => undefined);
    }, verdict.delayMs + spread);
  }

  /**
   * Stops the process (if any) and starts a fresh one; forgets earlier crashes and a refused load.
   * A shared engine is ended for every window that uses it: they reconnect to the new one.
   */
  async restart(): Promise<void> {
    this.forgetFailures();
    if (this.client?.shared) this.client.kill();
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
    this._engineStatus = undefined;
    this.watchdog?.dispose();
    this.watchdog = undefined;
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

  /** Reads a completion's prompt ahead of it (background priority: any other request stops it). Only a running engine is warmed. */
  async warm(params: WarmParams, token?: vscode.CancellationToken): Promise<WarmResult | undefined> {
    const client = this._state === 'ready' || this._state === 'generating' ? this.client : undefined;
    if (!client) return undefined;
    const source = new CancellationTokenSource();
    const sub = token?.onCancellationRequested(() => source.cancel());
    try {
      return await client.warm(params, source.token);
    } catch (e) {
      const error = toEngineError(e);
      if (!isCancellation(error)) this.log(`warm-up failed: ${error.message}`);
      return undefined; // a warm-up is an optimisation: its failure costs the next request its head start only
    } finally {
      sub?.dispose();
      source.dispose();
    }
  }

  /** The tokens a completion of this prompt reads, as text with the control tokens shown. */
  async renderPrompt(params: WarmParams): Promise<RenderPromptResult> {
    const { client } = await this.ensure();
    return client.renderPrompt(params);
  }

  private async generate(
    run: (client: EngineConnection, token: import('vscode-jsonrpc').CancellationToken) => Promise<CompleteResult>,
    token?: vscode.CancellationToken,
  ): Promise<CompleteResult> {
    const { client } = await this.ensure();
    if (token?.isCancellationRequested) throw new EngineError('cancelled', ErrorCodes.RequestCancelled);
    // vscode's token -> a JSON-RPC token: cancelling sends $/cancelRequest to the engine
    const source = new CancellationTokenSource();
    const sub = token?.onCancellationRequested(() => source.cancel());
    this.active++;
    const watched = this.watchdog?.track();
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
      watched?.();
      sub?.dispose();
      source.dispose();
      this.active--;
      if (this.active === 0 && this._state === 'generating') this.setState('ready');
      else this.stateEmitter.fire(this._state);
      void this.refreshStatus();
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    this.watchdog?.dispose();
    const client = this.client;
    this.client = undefined;
    if (client) void client.shutdown(2000).catch(() => undefined);
    this.stateEmitter.dispose();
    this.hangEmitter.dispose();
  }

  /** For deactivate(): resolves when the process is gone. */
  async disposeAsync(): Promise<void> {
    const client = this.client;
    this.dispose();
    if (client) await client.exited;
  }
}
