// Ghost-text completions. Flow of one request:
//   cache (exact window, or a completion the user is typing into) -> adopt a still-running
//   generation the user is typing into -> otherwise cancel the previous generation ($/cancelRequest)
//   -> debounce -> build the FIM window -> engine.complete with streaming deltas -> show the first
//   text as soon as a line is complete (or streamFirstMs passed), keep generating, and cache the
//   final result so the next trigger serves the longer completion at once. A generation that fails
//   (not cancelled) goes to `onError`: the context decides how the user hears of it.
import * as vscode from 'vscode';
import type { CompleteParams, CompleteResult } from '../../engine-native/host/protocol';
import { completionConfig, decodingParams, enabledFor, type CompletionConfig } from '../config';
import type { Engine } from '../engine';
import { isCancellation, type EngineError } from '../errors';
import { CompletionCache } from './cache';
import { Debouncer } from './debouncer';
import { LatencyTracker } from './latency';
import { postprocess, stopStrings, type PostContext } from './postprocess';
import { buildPrompt, type BuiltPrompt } from './prompt';
import type { RecentFiles } from './recent';

interface Generation {
  document: string;
  prefix: string;
  suffix: string;
  post: PostContext;
  raw: string;
  done: boolean;
  result?: CompleteResult;
  error?: Error;
  source: vscode.CancellationTokenSource;
  /** Resolves when the generation ends (never rejects). */
  finished: Promise<void>;
  changed: vscode.EventEmitter<void>;
  started: number;
}

export interface CompletionRecord {
  document: string;
  params: CompleteParams;
  built: BuiltPrompt;
  /** Raw engine text (so far). */
  raw: string;
  /** What was shown. */
  shown: string;
  source: 'engine' | 'cache' | 'inflight';
  stopReason?: string;
}

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly cache = new CompletionCache(64);
  readonly latency = new LatencyTracker();
  private readonly debouncer = new Debouncer();
  private current: Generation | undefined;
  private isPaused = false;
  private lastRecord: CompletionRecord | undefined;
  private readonly emitter = new vscode.EventEmitter<CompletionRecord>();
  /** Fires when a generation ends (with its final record). */
  readonly onDidFinish = this.emitter.event;

  /** `onError`: receives every generation error that is not a cancellation. */
  constructor(
    private readonly engine: Engine,
    private readonly recent: RecentFiles | undefined,
    private readonly onError: (e: EngineError) => void,
  ) {}

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

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (this.isPaused || !enabledFor(document)) return undefined;
    if (this.engine.gaveUp) return undefined;
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    const config = completionConfig(document);
    const docKey = `${document.uri.toString()}#${document.languageId}`;
    const built = this.window(document, position, config);
    const post = postContext(document, position, config);
    this.latency.requests++;

    const hit = this.cache.get(docKey, built.prefix, built.suffix);
    if (hit && (hit.complete || !this.runningFor(docKey, built))) {
      this.latency.cacheHits++;
      this.lastRecord = { document: docKey, params: { prompt: built.prompt }, built, raw: '', shown: hit.text, source: 'cache' };
      return [item(hit.text, position)];
    }

    // a generation for this window (or one the user is typing into) keeps running; any other is cancelled
    const running = this.runningFor(docKey, built);
    if (running) {
      const shown = await this.awaitText(running, built, explicit, config, token);
      if (shown === undefined || token.isCancellationRequested) return undefined;
      this.lastRecord = { ...(this.lastRecord as CompletionRecord), shown, source: 'inflight' };
      return shown ? [item(shown, position)] : undefined;
    }
    this.cancelCurrent();

    if (!(await this.debouncer.wait(explicit ? 0 : config.debounceMs, token))) return undefined;

    let info;
    try {
      ({ info } = await this.engine.ensure());
    } catch {
      return undefined; // a failed start is the engine's 'error' state: the context shows it
    }
    if (token.isCancellationRequested) return undefined;
    const params: CompleteParams = {
      // a model with FIM tokens gets {prefix, suffix} (the engine adds the tokens); others the prefix only
      prompt: info.target.fim ? built.prompt : built.prompt.prefix,
      maxTokens: config.maxTokens,
      temperature: config.temperature,
      stop: stopStrings(post),
      ...decodingParams(),
    };
    const generation = this.start(docKey, built, post, params);
    const shown = await this.awaitText(generation, built, explicit, config, token);
    if (shown === undefined || token.isCancellationRequested) return undefined;
    return shown ? [item(shown, position)] : undefined;
  }

  /** The prompt window at the cursor. */
  private window(document: vscode.TextDocument, position: vscode.Position, config = completionConfig(document)): BuiltPrompt {
    const extras =
      this.recent?.extras(
        document,
        config.extraContextFiles,
        Math.max(200, Math.floor(config.extraContextChars / Math.max(1, config.extraContextFiles))),
      ) ?? [];
    return buildPrompt({
      text: document.getText(),
      offset: document.offsetAt(position),
      languageId: document.languageId,
      path: vscode.workspace.asRelativePath(document.uri),
      extras,
      extraChars: config.extraContextChars,
      prefixLines: config.prefixLines,
      suffixLines: config.suffixLines,
      prefixChars: config.prefixChars,
      suffixChars: config.suffixChars,
    });
  }

  /** The running generation if the current window is its window plus text the user typed from it. */
  private runningFor(docKey: string, built: BuiltPrompt): Generation | undefined {
    const g = this.current;
    if (!g || g.done || g.document !== docKey || g.suffix !== built.suffix) return undefined;
    if (built.prefix === g.prefix) return g;
    if (!built.prefix.startsWith(g.prefix)) return undefined;
    const typed = built.prefix.slice(g.prefix.length);
    return g.raw.startsWith(typed) ? g : undefined;
  }

  private cancelCurrent(): void {
    const g = this.current;
    this.current = undefined;
    if (g && !g.done) g.source.cancel(); // -> $/cancelRequest to the engine
  }

  private start(docKey: string, built: BuiltPrompt, post: PostContext, params: CompleteParams): Generation {
    const source = new vscode.CancellationTokenSource();
    const changed = new vscode.EventEmitter<void>();
    const g: Generation = {
      document: docKey,
      prefix: built.prefix,
      suffix: built.suffix,
      post,
      raw: '',
      done: false,
      source,
      changed,
      started: Date.now(),
      finished: Promise.resolve(),
    };
    const record: CompletionRecord = { document: docKey, params, built, raw: '', shown: '', source: 'engine' };
    this.lastRecord = record;
    this.current = g;
    let firstTextMs = 0;
    g.finished = this.engine
      .complete(
        params,
        (delta) => {
          g.raw += delta;
          record.raw = g.raw;
          if (!firstTextMs && g.raw.trim()) firstTextMs = Date.now() - g.started;
          changed.fire();
        },
        source.token,
      )
      .then(
        (result) => {
          g.result = result;
          g.raw = result.text;
          record.raw = result.text;
          record.stopReason = result.stopReason;
          if (result.stopReason === 'cancelled') {
            this.latency.cancelled++;
          } else {
            const text = postprocess(result.text, post);
            this.cache.set({ document: docKey, prefix: built.prefix, suffix: built.suffix, text, complete: true });
            this.latency.add({
              firstTextMs: firstTextMs || Date.now() - g.started,
              totalMs: Date.now() - g.started,
              tokens: result.stats.tokens,
              tokensPerSecond: result.stats.tokensPerSecond,
              tokensPerTargetPass: result.stats.tokensPerTargetPass,
            });
          }
        },
        (e: EngineError) => {
          g.error = e;
          record.stopReason = 'error';
          // a generation this provider cancelled may also end as an error (the engine stopping): no failure
          if (isCancellation(e) || source.token.isCancellationRequested) {
            this.latency.cancelled++;
          } else {
            this.latency.errors++;
            this.onError(e);
          }
        },
      )
      .finally(() => {
        g.done = true;
        source.dispose();
        changed.fire();
        changed.dispose();
        if (this.current === g) this.current = undefined;
        this.emitter.fire(record);
      });
    return g;
  }

  /**
   * Waits until the generation has something worth showing for the window `built`: its end, or
   * (automatic triggers only) a complete first line or streamFirstMs with some text. Returns the
   * post-processed text minus what the user typed since the generation started; undefined if
   * cancelled, '' for nothing to show.
   */
  private awaitText(
    g: Generation,
    built: BuiltPrompt,
    explicit: boolean,
    config: CompletionConfig,
    token: vscode.CancellationToken,
  ): Promise<string | undefined> {
    const typed = built.prefix.slice(g.prefix.length);
    const ready = (): string | undefined => {
      if (g.done) {
        if (g.error || g.result?.stopReason === 'cancelled') return '';
        const text = postprocess(g.raw, g.post);
        return text.startsWith(typed) ? text.slice(typed.length) : '';
      }
      if (explicit) return undefined;
      const nl = g.raw.indexOf('\n', typed.length);
      const lineDone = nl >= 0 && g.raw.slice(0, nl).trim() !== '';
      const waited = Date.now() - g.started >= config.streamFirstMs;
      if (!lineDone && !(waited && g.raw.trim())) return undefined;
      // streamed: show complete lines only (the last one may still grow), single line when mid-line
      const upTo = nl >= 0 ? g.raw.slice(0, g.raw.lastIndexOf('\n')) : g.raw;
      const text = postprocess(upTo, g.post);
      if (!text.startsWith(typed) || text.length <= typed.length) return undefined;
      this.cache.set({ document: g.document, prefix: g.prefix, suffix: g.suffix, text, complete: false });
      return text.slice(typed.length);
    };
    return new Promise((resolve) => {
      const subs: vscode.Disposable[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (v: string | undefined) => {
        for (const s of subs) s.dispose();
        clearTimeout(timer);
        resolve(v);
      };
      const check = () => {
        const v = ready();
        if (v !== undefined) finish(v);
      };
      subs.push(token.onCancellationRequested(() => finish(undefined)));
      if (!g.done) subs.push(g.changed.event(check));
      if (!explicit && !g.done) timer = setTimeout(check, Math.max(0, config.streamFirstMs - (Date.now() - g.started)) + 1);
      check();
    });
  }

  /** Stops the running generation (the chat takes the engine). */
  cancel(): void {
    this.debouncer.cancel();
    this.cancelCurrent();
  }

  /** Clears the cache (after a model change). */
  reset(): void {
    this.cancelCurrent();
    this.cache.clear();
  }

  dispose(): void {
    this.cancelCurrent();
    this.debouncer.cancel();
    this.emitter.dispose();
  }
}

function item(text: string, position: vscode.Position): vscode.InlineCompletionItem {
  return new vscode.InlineCompletionItem(text, new vscode.Range(position, position));
}

export function postContext(document: vscode.TextDocument, position: vscode.Position, config: CompletionConfig): PostContext {
  const line = document.lineAt(position.line).text;
  const nextLines: string[] = [];
  for (let i = position.line + 1; i < Math.min(document.lineCount, position.line + 6); i++) nextLines.push(document.lineAt(i).text);
  return {
    linePrefix: line.slice(0, position.character),
    lineSuffix: line.slice(position.character),
    nextLines,
    maxLines: config.maxLines,
  };
}
