// The engine host's state: the loaded models and a serial queue of requests that use them.
// One generation runs at a time (the models' KV caches are shared state); others wait in a
// bounded queue per client, and a cancelled request leaves the queue or stops the running
// generation. Clients (the windows sharing one engine) are served in turn: the next job comes from
// the client served least recently, so a burst from one window never queues ahead of another's.
// And a generation of another client than the running one's does not wait for it to end: it runs
// nested inside it, at its next step (the running one's state kept aside and put back byte for
// byte), so a long chat answer in one window delays ghost text in another by one step at most.
// Background work (a warm-up, a prefetch) runs only when nothing else waits, and any other request
// stops it at once: it never delays what the user waits for.
import { mkdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResponseError, type CancellationToken } from 'vscode-jsonrpc/node';
import { loadAddon, type NativeEngine, type NativeError, type NativeRequest, type NativeResult } from './native';
import {
  DECODING_MODES,
  ErrorCodes,
  PROTOCOL_VERSION,
  type CompleteResult,
  type CostPoint,
  type DecodingMode,
  type EngineStatus,
  type InitializeParams,
  type InitializeResult,
  type ModelInfo,
  type RenderPromptResult,
  type WarmResult,
} from './protocol';

export const ENGINE_VERSION = '0.1.0';

/** Calibration timings survive restarts: $SPECEXEC_CACHE_DIR, else ~/.cache/specexec. */
function calibrationCacheFile(): string {
  const dir = process.env.SPECEXEC_CACHE_DIR || path.join(os.homedir(), '.cache', 'specexec');
  try {
    mkdirSync(dir, { recursive: true });
    return path.join(dir, 'calibration.tsv');
  } catch {
    return ''; // no writable cache: calibrate at every start
  }
}
/** Queued generations per client: typing produces bursts, and only the newest matter. */
const MAX_QUEUED = 8;
/** Queued background jobs per client (a warm-up and a prefetch): a newer one pushes the oldest out. */
const MAX_BACKGROUND_QUEUED = 2;

/** A connection to the engine (one window); a per-window engine has client 0 alone. */
export type ClientId = number;

interface Job {
  client: ClientId;
  run: () => Promise<void>;
  /** Set for generations: rejects the job without running it when newer requests push it out. */
  evict?: () => void;
  /** Runs only when no other job waits; any other job stops it (engine.cancel). */
  background?: boolean;
}

export type DeltaSink = (delta: string, tokens: number) => void;

export class EngineService {
  private readonly engine: NativeEngine = new (loadAddon().Engine)();
  private info: InitializeResult | undefined;
  /** What `info` was loaded with: an identical initialize (another window) reuses the models. */
  private loadedWith: string | undefined;
  private queue: Job[] = [];
  private running: Job | undefined;
  /** The generation running nested in the running one (one at a time), and its client. */
  private nested: { client: ClientId; done: Promise<void> } | undefined;
  /** When each client's last job started (a counter): the least recent goes next. */
  private readonly lastServed = new Map<ClientId, number>();
  private served = 0;
  private shuttingDown = false;
  private readonly startedAt = Date.now();

  get initialized(): InitializeResult | undefined {
    return this.info;
  }

  /** specexec when a draft is loaded, else autoregressive. */
  get defaultMode(): DecodingMode {
    return this.info?.draft ? 'specexec' : 'autoregressive';
  }

  async initialize(params: InitializeParams, client: ClientId = 0): Promise<InitializeResult> {
    this.checkNotShuttingDown();
    const key = JSON.stringify(params);
    // loading replaces the models: wait for queued generations so none runs on a half-loaded engine
    return this.enqueue(client, async () => {
      if (this.info && this.loadedWith === key) return this.info;
      try {
        const loaded = await this.engine.load({ ...params, calibrationCache: calibrationCacheFile() });
        this.info = {
          protocolVersion: PROTOCOL_VERSION,
          engineVersion: ENGINE_VERSION,
          target: loaded.target,
          draft: loaded.draft,
          threads: loaded.threads,
          contextSize: loaded.contextSize,
          maxBudget: loaded.maxBudget,
          modes: loaded.draft ? [...DECODING_MODES] : ['autoregressive'],
          calibration: loaded.calibration,
          offload: loaded.offload,
          cpu: loadAddon().systemInfo().cpu,
        };
        this.loadedWith = key;
        return this.info;
      } catch (e) {
        throw toResponseError(e);
      }
    });
  }

  /** `onDelta` undefined: nobody streams, and the engine sends no deltas (each would wake this thread). */
  complete(
    request: NativeRequest,
    token: CancellationToken,
    onDelta?: DeltaSink,
    client: ClientId = 0,
    background = false,
  ): Promise<CompleteResult> {
    this.checkNotShuttingDown();
    this.checkInitialized();
    if (background) return this.completeQueued(request, token, onDelta, client, true);
    if (this.canNest(client)) return this.completeNested(request, token, onDelta, client);
    return this.completeQueued(request, token, onDelta, client);
  }

  /** Reads a completion's prompt into the caches ahead of it, in the background. */
  warm(prompt: NativeRequest['prompt'], maxTokens: number, token: CancellationToken, client: ClientId = 0): Promise<WarmResult> {
    this.checkNotShuttingDown();
    this.checkInitialized();
    return this.enqueueGeneration(client, true, token, () => this.engine.warm(prompt, maxTokens));
  }

  /** The tokens a completion of `prompt` reads, as text: answered at once (it reads the vocabulary only). */
  renderPrompt(prompt: NativeRequest['prompt'], maxTokens: number): RenderPromptResult {
    this.checkInitialized();
    try {
      return this.engine.renderPrompt(prompt, maxTokens);
    } catch (e) {
      throw toResponseError(e);
    }
  }

  private checkInitialized(): void {
    if (!this.info) {
      throw new ResponseError(ErrorCodes.NotInitialized, 'the engine has no models yet: send initialize first');
    }
  }

  /** Whether a generation of `client` would run inside the running one: that is another client's foreground generation. */
  private canNest(client: ClientId): boolean {
    return this.running?.evict !== undefined && !this.running.background && this.running.client !== client;
  }

  private async completeNested(
    request: NativeRequest,
    token: CancellationToken,
    onDelta: DeltaSink | undefined,
    client: ClientId,
  ): Promise<CompleteResult> {
    // one at a time: wait for the one nested now (a newer request of its window cancels it)
    while (this.nested) await this.nested.done;
    if (token.isCancellationRequested) throw new ResponseError(ErrorCodes.RequestCancelled, 'cancelled before it started');
    if (!this.canNest(client)) return this.completeQueued(request, token, onDelta, client);
    const subscription = token.onCancellationRequested(() => this.engine.cancelNested());
    const run = this.engine.generate(request, onDelta, true);
    const nested = {
      client,
      done: run.then(
        () => undefined,
        () => undefined,
      ),
    };
    this.nested = nested;
    try {
      return toCompleteResult(await run);
    } catch (e) {
      // the running generation was ending just then: wait in the queue instead
      if ((e as NativeError).code === ErrorCodes.Busy) return this.completeQueued(request, token, onDelta, client);
      throw toResponseError(e);
    } finally {
      subscription.dispose();
      if (this.nested === nested) this.nested = undefined;
    }
  }

  private async completeQueued(
    request: NativeRequest,
    token: CancellationToken,
    onDelta: DeltaSink | undefined,
    client: ClientId,
    background = false,
  ): Promise<CompleteResult> {
    return toCompleteResult(await this.enqueueGeneration(client, background, token, () => this.engine.generate(request, onDelta)));
  }

  /**
   * Queues a job that uses the models and can be stopped (cancel, or a newer job pushing it out of
   * the queue). Typing produces bursts: the newest request wins, the client's oldest waiting one of
   * the same priority gives way. A foreground job stops a background one that runs.
   */
  private enqueueGeneration<T>(client: ClientId, background: boolean, token: CancellationToken, work: () => Promise<T>): Promise<T> {
    const waiting = this.queue.filter((j) => j.evict && j.client === client && !!j.background === background);
    if (waiting.length >= (background ? MAX_BACKGROUND_QUEUED : MAX_QUEUED)) this.evict(waiting[0]);
    return this.enqueue(
      client,
      async () => {
        if (token.isCancellationRequested) {
          throw new ResponseError(ErrorCodes.RequestCancelled, 'cancelled before it started');
        }
        const subscription = token.onCancellationRequested(() => this.engine.cancel());
        try {
          return await work();
        } catch (e) {
          throw toResponseError(e);
        } finally {
          subscription.dispose();
        }
      },
      () => new ResponseError(ErrorCodes.RequestCancelled, 'superseded by newer requests before it started'),
      background,
    );
  }

  measurePassCost(batches: number[], client: ClientId = 0): Promise<CostPoint[]> {
    this.checkNotShuttingDown();
    return this.enqueue(client, async () => {
      try {
        return await this.engine.timeTargetPasses(batches);
      } catch (e) {
        throw toResponseError(e);
      }
    });
  }

  chatPrompt(messages: { role: string; content: string }[]): string {
    const target: ModelInfo | undefined = this.info?.target;
    if (!target) throw new ResponseError(ErrorCodes.NotInitialized, 'the engine has no models yet: send initialize first');
    return loadAddon().formatChat(target.chatTemplate, messages);
  }

  /** A client went away (its window closed): its waiting generations are dropped and its running one stopped. */
  dropClient(client: ClientId): void {
    for (const job of this.queue.filter((j) => j.client === client && j.evict)) this.evict(job);
    if (this.running?.client === client && this.running.evict) this.engine.cancel();
    if (this.nested?.client === client) this.engine.cancelNested();
    this.lastServed.delete(client);
  }

  /** Who this engine is and what it holds, for the clients' "Show Stats". */
  status(clients: number, shared: boolean): EngineStatus {
    return {
      pid: process.pid,
      shared,
      clients,
      uptimeMs: Date.now() - this.startedAt,
      memory: processMemory(),
      activity: { generating: this.running?.evict !== undefined || this.nested !== undefined, heartbeat: this.engine.heartbeat() },
    };
  }

  /** Cancels the running generation, drops the waiting ones and frees the models. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const job of this.queue.filter((j) => j.evict)) this.evict(job);
    this.engine.cancel();
    await this.enqueue(-1, async () => this.engine.close());
  }

  private checkNotShuttingDown(): void {
    if (this.shuttingDown) throw new ResponseError(ErrorCodes.ShuttingDown, 'the engine is shutting down');
  }

  private evict(job: Job): void {
    this.queue.splice(this.queue.indexOf(job), 1);
    job.evict!();
  }

  private enqueue<T>(client: ClientId, work: () => Promise<T>, evicted?: () => Error, background = false): Promise<T> {
    if (!background && this.running?.background) this.engine.cancel(); // the user waits for this one
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ client, background, run: () => work().then(resolve, reject), evict: evicted && (() => reject(evicted())) });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    for (let job = this.next(); job; job = this.next()) {
      this.running = job;
      this.lastServed.set(job.client, this.served++);
      await job.run();
    }
    this.running = undefined;
  }

  /** The oldest job of the client served least recently (never served: first); background jobs when no other waits. */
  private next(): Job | undefined {
    const foreground = this.queue.filter((j) => !j.background);
    let best: Job | undefined;
    for (const job of foreground.length > 0 ? foreground : this.queue) {
      if (!best || (this.lastServed.get(job.client) ?? -1) < (this.lastServed.get(best.client) ?? -1)) best = job;
    }
    if (best) this.queue.splice(this.queue.indexOf(best), 1);
    return best;
  }
}

/**
 * This process's memory: resident, and (Linux) proportional, which splits shared pages among their
 * users. Read synchronously (a /proc file, a few hundred bytes): the host's one libuv pool thread
 * is busy for the whole of a generation, and the status must answer during one.
 */
function processMemory(): EngineStatus['memory'] {
  const rssBytes = process.memoryUsage.rss();
  if (process.platform !== 'linux') return { rssBytes, pssBytes: null };
  let rollup = '';
  try {
    rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  } catch {
    // an older kernel without smaps_rollup: no PSS
  }
  const pss = /^Pss:\s+(\d+) kB/m.exec(rollup);
  return { rssBytes, pssBytes: pss ? Number(pss[1]) * 1024 : null };
}

function toCompleteResult(r: NativeResult): CompleteResult {
  const decodeMs = Math.max(r.stats.elapsedMs - r.stats.promptMs, 1e-3);
  return {
    text: r.text,
    tokens: Array.from(r.tokens),
    alternatives: r.alternatives,
    stopReason: r.stopReason,
    stats: {
      ...r.stats,
      tokensPerTargetPass: r.stats.targetPasses > 0 ? r.stats.tokens / r.stats.targetPasses : 0,
      // the first token (or, with a tree, the first few) comes from the prompt's pass: the rate is of the tokens after it (llama.cpp's way)
      tokensPerSecond: r.stats.tokens > r.stats.promptPassTokens ? ((r.stats.tokens - r.stats.promptPassTokens) * 1000) / decodeMs : 0,
      overheadMs: Math.max(0, decodeMs - r.stats.draftMs - r.stats.targetMs),
    },
    ...(r.trimmed ? { trimmed: r.trimmed } : {}),
  };
}

function toResponseError(e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e;
  const err = e as NativeError;
  return new ResponseError(typeof err.code === 'number' ? err.code : ErrorCodes.InternalError, err.message ?? String(e));
}
