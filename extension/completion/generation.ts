// One engine generation for a completion window, as the provider and the prefetch see it: its text
// as it streams, its end, and what is worth showing of it for a window the user may have typed into
// since it started. Cancelling its token sends $/cancelRequest to the engine.
import * as vscode from 'vscode';
import type { CompleteParams, CompleteResult } from '../../engine-native/host/protocol';
import type { CompletionConfig } from '../config';
import type { Engine } from '../engine';
import type { EngineError } from '../errors';
import { postprocess } from './postprocess';
import type { BuiltPrompt } from './prompt';
import type { PlannedRequest } from './request';

export class Generation {
  raw = '';
  done = false;
  result?: CompleteResult;
  error?: EngineError;
  /** Milliseconds from the start to the first non-blank text. */
  firstTextMs = 0;
  readonly started = Date.now();
  readonly source = new vscode.CancellationTokenSource();
  /** Resolves when the generation ends (never rejects). */
  readonly finished: Promise<void>;
  private readonly changed = new vscode.EventEmitter<void>();

  constructor(
    engine: Engine,
    readonly plan: PlannedRequest,
    readonly params: CompleteParams = plan.params,
    onDelta?: (raw: string) => void,
  ) {
    this.finished = engine
      .complete(
        params,
        (delta) => {
          this.raw += delta;
          if (!this.firstTextMs && this.raw.trim()) this.firstTextMs = Date.now() - this.started;
          onDelta?.(this.raw);
          this.changed.fire();
        },
        this.source.token,
      )
      .then(
        (result) => {
          this.result = result;
          this.raw = result.text;
        },
        (e: EngineError) => {
          this.error = e;
        },
      )
      .finally(() => {
        this.done = true;
        this.source.dispose();
        this.changed.fire();
        this.changed.dispose();
      });
  }

  get document(): string {
    return this.plan.snapshot.document;
  }

  /** Ended with text (not cancelled, not failed). */
  get succeeded(): boolean {
    return this.done && !this.error && this.result?.stopReason !== 'cancelled';
  }

  /** Stopped by its owner (not an engine failure). */
  get cancelledByUs(): boolean {
    return this.source.token.isCancellationRequested;
  }

  cancel(): void {
    if (!this.done) this.source.cancel();
  }

  /** Whether `built` is this generation's window, or that window plus text the user typed from it that the generation produced. */
  serves(document: string, built: BuiltPrompt): boolean {
    const own = this.plan.built;
    if (this.done || this.document !== document || own.suffix !== built.suffix) return false;
    if (built.prefix === own.prefix) return true;
    if (!built.prefix.startsWith(own.prefix)) return false;
    return this.raw.startsWith(built.prefix.slice(own.prefix.length));
  }

  /** The post-processed text of the whole generation. */
  text(): string {
    return postprocess(this.raw, this.plan.post);
  }

  /**
   * Waits until there is something worth showing for the window `built`: the end, or (automatic
   * triggers only) a complete first line or streamFirstMs with some text. Returns the
   * post-processed text minus what the user typed since the generation started; undefined if
   * cancelled, '' for nothing to show. `onPartial` receives a streamed text that is shown.
   */
  textFor(
    built: BuiltPrompt,
    explicit: boolean,
    config: CompletionConfig,
    token: vscode.CancellationToken,
    onPartial: (text: string) => void,
  ): Promise<string | undefined> {
    const typed = built.prefix.slice(this.plan.built.prefix.length);
    const ready = (): string | undefined => {
      if (this.done) {
        if (!this.succeeded) return '';
        const text = this.text();
        return text.startsWith(typed) ? text.slice(typed.length) : '';
      }
      if (explicit) return undefined;
      const nl = this.raw.indexOf('\n', typed.length);
      const lineDone = nl >= 0 && this.raw.slice(0, nl).trim() !== '';
      const waited = Date.now() - this.started >= config.streamFirstMs;
      if (!lineDone && !(waited && this.raw.trim())) return undefined;
      // streamed: show complete lines only (the last one may still grow), single line when mid-line
      const upTo = nl >= 0 ? this.raw.slice(0, this.raw.lastIndexOf('\n')) : this.raw;
      const text = postprocess(upTo, this.plan.post);
      if (!text.startsWith(typed) || text.length <= typed.length) return undefined;
      onPartial(text);
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
      if (!this.done) subs.push(this.changed.event(check));
      if (!explicit && !this.done) timer = setTimeout(check, Math.max(0, config.streamFirstMs - (Date.now() - this.started)) + 1);
      check();
    });
  }
}
