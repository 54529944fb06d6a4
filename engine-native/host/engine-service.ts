// The engine host's state: the loaded models and a serial queue of requests that use them.
// One generation runs at a time (the models' KV caches are shared state); others wait in a
// bounded queue, and a cancelled request leaves the queue or stops the running generation.
import { mkdirSync } from 'node:fs';
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
  type InitializeParams,
  type InitializeResult,
  type ModelInfo,
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
const MAX_QUEUED = 8;

interface Job {
  run: () => Promise<void>;
  /** Set for generations: rejects the job without running it when newer requests push it out. */
  evict?: () => void;
}

export type DeltaSink = (delta: string, tokens: number) => void;

export class EngineService {
  private readonly engine: NativeEngine = new (loadAddon().Engine)();
  private info: InitializeResult | undefined;
  private queue: Job[] = [];
  private running = false;
  private shuttingDown = false;

  get initialized(): InitializeResult | undefined {
    return this.info;
  }

  /** specexec when a draft is loaded, else autoregressive. */
  get defaultMode(): DecodingMode {
    return this.info?.draft ? 'specexec' : 'autoregressive';
  }

  async initialize(params: InitializeParams): Promise<InitializeResult> {
    this.checkNotShuttingDown();
    // loading replaces the models: wait for queued generations so none runs on a half-loaded engine
    return this.enqueue(async () => {
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
        return this.info;
      } catch (e) {
        throw toResponseError(e);
      }
    });
  }

  /** `onDelta` undefined: nobody streams, and the engine sends no deltas (each would wake this thread). */
  complete(request: NativeRequest, token: CancellationToken, onDelta?: DeltaSink): Promise<CompleteResult> {
    this.checkNotShuttingDown();
    if (!this.info) {
      throw new ResponseError(ErrorCodes.NotInitialized, 'the engine has no models yet: send initialize first');
    }
    // typing produces bursts: the newest request wins, the oldest waiting generation gives way
    if (this.queue.filter((j) => j.evict).length >= MAX_QUEUED) {
      const oldest = this.queue.findIndex((j) => j.evict);
      this.queue.splice(oldest, 1)[0].evict!();
    }
    return this.enqueue(
      async () => {
        if (token.isCancellationRequested) {
          throw new ResponseError(ErrorCodes.RequestCancelled, 'cancelled before it started');
        }
        const subscription = token.onCancellationRequested(() => this.engine.cancel());
        try {
          return toCompleteResult(await this.engine.generate(request, onDelta));
        } catch (e) {
          throw toResponseError(e);
        } finally {
          subscription.dispose();
        }
      },
      () => new ResponseError(ErrorCodes.RequestCancelled, 'superseded by newer requests before it started'),
    );
  }

  measurePassCost(batches: number[]): Promise<CostPoint[]> {
    this.checkNotShuttingDown();
    return this.enqueue(async () => {
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

  /** Cancels the running generation, drops the queue and frees the models. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.engine.cancel();
    await this.enqueue(async () => this.engine.close());
  }

  private checkNotShuttingDown(): void {
    if (this.shuttingDown) throw new ResponseError(ErrorCodes.ShuttingDown, 'the engine is shutting down');
  }

  private enqueue<T>(work: () => Promise<T>, evicted?: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: () => work().then(resolve, reject), evict: evicted && (() => reject(evicted())) });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.queue.length > 0) {
      await this.queue.shift()!.run();
    }
    this.running = false;
  }
}

function toCompleteResult(r: NativeResult): CompleteResult {
  const decodeMs = Math.max(r.stats.elapsedMs - r.stats.promptMs, 1e-3);
  return {
    text: r.text,
    tokens: Array.from(r.tokens),
    stopReason: r.stopReason,
    stats: {
      ...r.stats,
      tokensPerTargetPass: r.stats.targetPasses > 0 ? r.stats.tokens / r.stats.targetPasses : 0,
      // the first token comes from the prompt's pass: the rate is of the tokens after it (llama.cpp's way)
      tokensPerSecond: r.stats.tokens > 1 ? ((r.stats.tokens - 1) * 1000) / decodeMs : 0,
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
