// Ghost-text completions. Flow of one request:
//   cache (exact window, or a completion the user is typing into) -> adopt a still-running
//   generation the user is typing into (the current one, or a prefetch) -> otherwise cancel the
//   previous generation ($/cancelRequest) -> debounce -> engine.complete with streaming deltas ->
//   show the first text as soon as a line is complete (or streamFirstMs passed), keep generating,
//   and cache the final result so the next trigger serves the longer completion at once.
// Around it: a suggestion shown whole is prefetched past (the completion that follows its accept
// is computed in the background and cached: prefetch.ts), and an explicit trigger (or cycling with
// Alt+] / Alt+[) adds up to two alternatives that start with the target's next most likely first
// tokens (alternatives.ts). A generation that fails (not cancelled) goes to `onError`: the context
// decides how the user hears of it.
import * as vscode from 'vscode';
import type { CompleteParams, InitializeResult } from '../../engine-native/host/protocol';
import { completionConfig, decodingParams, enabledFor, type CompletionConfig } from '../config';
import type { Engine } from '../engine';
import { isCancellation, type EngineError } from '../errors';
import { Alternatives, type MainSuggestion } from './alternatives';
import { CompletionCache } from './cache';
import type { ContextCollector } from './context-collector';
import { Debouncer } from './debouncer';
import { Generation } from './generation';
import { LatencyTracker } from './latency';
import { Prefetcher } from './prefetch';
import type { BuiltPrompt } from './prompt';
import { planRequest, type PlannedRequest, type Snapshot } from './request';

export interface CompletionRecord {
  document: string;
  params: CompleteParams;
  built: BuiltPrompt;
  /** Raw engine text (so far). */
  raw: string;
  /** What was shown. */
  shown: string;
  source: 'engine' | 'cache' | 'inflight' | 'prefetch';
  stopReason?: string;
  /** Alternatives shown with it (explicit triggers). */
  alternatives?: string[];
}

/** A provider call that returned suggestions: for the typing-session benchmark and the tests. */
export interface ProvideEvent {
  document: string;
  /** When it returned (Date.now()), and how long it took. */
  at: number;
  ms: number;
  source: CompletionRecord['source'];
  /** Characters of the main suggestion. */
  chars: number;
  items: number;
  explicit: boolean;
}

/** The command a shown item runs when the user accepts it wholly (Tab). */
export const ACCEPTED_COMMAND = 'specexec.didAcceptCompletion';

export function snapshotOf(document: vscode.TextDocument, position: vscode.Position): Snapshot {
  return {
    document: `${document.uri.toString()}#${document.languageId}`,
    text: document.getText(),
    offset: document.offsetAt(position),
    languageId: document.languageId,
    path: vscode.workspace.asRelativePath(document.uri),
  };
}

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly cache = new CompletionCache(64);
  readonly latency = new LatencyTracker();
  private readonly debouncer = new Debouncer();
  private readonly prefetcher: Prefetcher;
  private readonly alternatives: Alternatives;
  private current: Generation | undefined;
  private isPaused = false;
  private lastRecord: CompletionRecord | undefined;
  /** The suggestion shown last: typing into it or accepting part of it is the same offer. */
  private offer: { key: string; accepted: boolean } | undefined;
  private readonly emitter = new vscode.EventEmitter<CompletionRecord>();
  /** Fires when a generation ends (with its final record). */
  readonly onDidFinish = this.emitter.event;
  private readonly provided = new vscode.EventEmitter<ProvideEvent>();
  /** Fires when a provider call returns suggestions. */
  readonly onDidProvide = this.provided.event;

  /** `onError`: receives every generation error that is not a cancellation. */
  constructor(
    private readonly engine: Engine,
    private readonly context: ContextCollector | undefined,
    private readonly onError: (e: EngineError) => void,
  ) {
    this.prefetcher = new Prefetcher(engine, this.cache);
    this.alternatives = new Alternatives(engine, this.latency);
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** The latest request (its record keeps growing while the generation streams). */
  get last(): Readonly<CompletionRecord> | undefined {
    return this.lastRecord;
  }

  /** Pausing also stops the running generation and forgets the cache. */
  setPaused(paused: boolean): void {
    this.isPaused = paused;
    if (paused) this.reset();
  }

  /** The request a completion at `position` would send (the engine's FIM tokens decide its prompt's shape). */
  planAt(document: vscode.TextDocument, position: vscode.Position, config = completionConfig(document)): PlannedRequest {
    const info = this.engine.info;
    const extras = this.context?.extras(document, position) ?? [];
    const plan = planRequest(snapshotOf(document, position), config, extras, info?.target.fim ?? null, decodingParams());
    if (config.suggestions > 1) plan.params.alternatives = config.suggestions - 1;
    return plan;
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (this.isPaused || !enabledFor(document)) return undefined;
    if (this.engine.gaveUp) return undefined;
    const started = Date.now();
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    const config = completionConfig(document);
    const plan = this.planAt(document, position, config);
    this.latency.requests++;

    const main = await this.mainText(plan, explicit, config, token);
    if (!main || token.isCancellationRequested) return undefined;
    const items = [this.item(main.text, position)];
    if (explicit && config.suggestions > 1) {
      const alternatives = await this.alternatives.for(main, config, token);
      if (token.isCancellationRequested) return undefined;
      for (const text of alternatives) items.push(this.item(text, position));
      if (this.lastRecord) this.lastRecord.alternatives = alternatives;
    }
    this.latency.addGhost(Date.now() - started);
    this.countOffer(plan, main.typed, main.text);
    const source = this.lastRecord?.source ?? 'engine';
    this.provided.fire({
      document: plan.snapshot.document,
      at: Date.now(),
      ms: Date.now() - started,
      source,
      chars: main.text.length,
      items: items.length,
      explicit,
    });
    // a suggestion shown whole (not a streamed first line): the completion after its accept is next
    if (main.complete) this.prefetcher.after(main.plan, main.text, config);
    return items;
  }

  /** The main suggestion for the plan's window and how much of it the user typed; undefined for none. */
  private async mainText(
    plan: PlannedRequest,
    explicit: boolean,
    config: CompletionConfig,
    token: vscode.CancellationToken,
  ): Promise<MainSuggestion | undefined> {
    const { document } = plan.snapshot;
    const { built } = plan;
    const running = this.runningFor(document, built);
    const hit = this.cache.get(document, built.prefix, built.suffix);
    if (hit && (hit.complete || !running)) {
      this.latency.cacheHits++;
      if (this.prefetcher.produced(document, built, hit.typed)) this.latency.prefetchHits++;
      this.record(plan, hit.text, 'cache', undefined, hit.params);
      return { plan, text: hit.text, typed: hit.typed, complete: hit.complete, choices: hit.alternatives };
    }

    // a generation for this window (or one the user is typing into) keeps running; any other is cancelled
    if (running) {
      const shown = await this.showFrom(running, plan, explicit, config, token);
      if (shown === undefined) return undefined;
      const prefetched = running !== this.current;
      if (prefetched) this.latency.prefetchHits++;
      this.record(plan, shown, prefetched ? 'prefetch' : 'inflight', running);
      const typed = built.prefix.length - running.plan.built.prefix.length;
      return shown ? { plan, text: shown, typed, complete: running.done, choices: running.result?.alternatives } : undefined;
    }
    this.cancelCurrent();

    if (!(await this.debouncer.wait(explicit ? 0 : config.debounceMs, token))) return undefined;
    let info: InitializeResult;
    try {
      ({ info } = await this.engine.ensure());
    } catch {
      return undefined; // a failed start is the engine's 'error' state: the context shows it
    }
    if (token.isCancellationRequested) return undefined;
    // planned before the engine was known (its first start): the prompt's shape follows its FIM tokens
    const fresh = plan.fim === info.target.fim ? plan : planRequest(plan.snapshot, config, plan.extras, info.target.fim, decodingParams());
    fresh.params.alternatives = plan.params.alternatives;
    const generation = this.start(fresh, config, !explicit);
    const shown = await this.showFrom(generation, fresh, explicit, config, token);
    return shown ? { plan: fresh, text: shown, typed: 0, complete: generation.done, choices: generation.result?.alternatives } : undefined;
  }

  private showFrom(
    g: Generation,
    plan: PlannedRequest,
    explicit: boolean,
    config: CompletionConfig,
    token: vscode.CancellationToken,
  ): Promise<string | undefined> {
    const own = g.plan.built;
    return g.textFor(plan.built, explicit, config, token, (text) =>
      this.cache.set({ document: g.document, prefix: own.prefix, suffix: own.suffix, text, complete: false, params: g.params }),
    );
  }

  private item(text: string, position: vscode.Position): vscode.InlineCompletionItem {
    return new vscode.InlineCompletionItem(text, new vscode.Range(position, position), { command: ACCEPTED_COMMAND, title: 'Accepted' });
  }

  /** What was shown, and the request that produced it (a generation's, or a cache entry's: its extra context may be older). */
  private record(plan: PlannedRequest, shown: string, source: CompletionRecord['source'], g?: Generation, params?: CompleteParams): void {
    this.lastRecord = {
      document: plan.snapshot.document,
      params: g?.params ?? params ?? plan.params,
      built: g?.plan.built ?? plan.built,
      raw: g?.raw ?? '',
      shown,
      source,
    };
  }

  /** Counts a shown suggestion once, however much of it the user then types. */
  private countOffer(plan: PlannedRequest, typed: number, text: string): void {
    const origin = plan.built.prefix.slice(0, plan.built.prefix.length - typed);
    const key = `${plan.snapshot.document}\u0000${origin}\u0000${plan.built.suffix}`;
    if (this.offer?.key === key || !text) return;
    this.offer = { key, accepted: false };
    this.latency.offered++;
  }

  /** The user accepted the suggestion shown (wholly, or a word or line of it). */
  didAccept(): void {
    if (!this.offer || this.offer.accepted) return;
    this.offer.accepted = true;
    this.latency.accepted++;
  }

  /** The running generation (current or prefetched) if the window is its window plus text the user typed from it. */
  private runningFor(document: string, built: BuiltPrompt): Generation | undefined {
    if (this.current?.serves(document, built)) return this.current;
    return this.prefetcher.runningFor(document, built);
  }

  private cancelCurrent(): void {
    const g = this.current;
    this.current = undefined;
    g?.cancel(); // -> $/cancelRequest to the engine
  }

  /** `prefetchAtEnd`: the suggestion may be on screen as its first line only; its end starts the prefetch past it. */
  private start(plan: PlannedRequest, config: CompletionConfig, prefetchAtEnd: boolean): Generation {
    const { built } = plan;
    const record: CompletionRecord = { document: plan.snapshot.document, params: plan.params, built, raw: '', shown: '', source: 'engine' };
    this.lastRecord = record;
    const g = new Generation(this.engine, plan, plan.params, (raw) => (record.raw = raw));
    this.current = g;
    void g.finished.then(() => {
      record.raw = g.raw;
      record.stopReason = g.error ? 'error' : g.result?.stopReason;
      if (this.current === g) this.current = undefined;
      if (g.succeeded && g.result) {
        const text = g.text();
        this.cache.set({
          document: g.document,
          prefix: built.prefix,
          suffix: built.suffix,
          text,
          complete: true,
          alternatives: g.result.alternatives,
          params: g.params,
        });
        this.latency.add({
          firstTextMs: g.firstTextMs || Date.now() - g.started,
          totalMs: Date.now() - g.started,
          tokens: g.result.stats.tokens,
          tokensPerSecond: g.result.stats.tokensPerSecond,
          tokensPerTargetPass: g.result.stats.tokensPerTargetPass,
        });
        // a streamed suggestion is accepted line by line while it generates: the completion after its
        // whole text is the next one the user waits for
        if (prefetchAtEnd) this.prefetcher.after(plan, text, config);
      } else if (g.error && !isCancellation(g.error) && !g.cancelledByUs) {
        this.latency.errors++;
        this.onError(g.error);
      } else {
        // a generation this provider cancelled may also end as an error (the engine stopping): no failure
        this.latency.cancelled++;
      }
      this.emitter.fire(record);
    });
    return g;
  }

  /** Stops the running generation (the chat takes the engine). */
  cancel(): void {
    this.debouncer.cancel();
    this.cancelCurrent();
    this.prefetcher.cancel();
  }

  /** Clears the cache (after a model change). */
  reset(): void {
    this.cancel();
    this.cache.clear();
    this.alternatives.clear();
  }

  dispose(): void {
    this.cancel();
    this.emitter.dispose();
    this.provided.dispose();
  }
}
