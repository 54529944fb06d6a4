// Prefetch: while a suggestion is shown, the completion that follows its accept is computed in the
// background and cached, so the ghost text after Tab (or after accepting the rest word by word)
// appears without waiting for the engine (llama.vscode's cacheFutureSuggestion). The request has
// background priority: anything the user waits for stops it at once.
import { decodingParams, type CompletionConfig } from '../config';
import type { Engine } from '../engine';
import type { CompletionCache } from './cache';
import { Generation } from './generation';
import { LruMap } from './lru';
import type { BuiltPrompt } from './prompt';
import { afterAccept, planRequest, type PlannedRequest } from './request';

function windowKey(document: string, prefix: string, suffix: string): string {
  return `${document}\u0000${prefix}\u0000${suffix}`;
}

export class Prefetcher {
  private running: Generation | undefined;
  /** Windows whose cache entry a prefetch made. */
  private readonly made = new LruMap<string, true>(64);

  constructor(
    private readonly engine: Engine,
    private readonly cache: CompletionCache,
  ) {}

  /** `shown` is on screen for `plan`'s window: prefetch the completion after it is accepted. */
  after(plan: PlannedRequest, shown: string, config: CompletionConfig): void {
    const info = this.engine.info;
    // only a running engine: a prefetch never starts (or restarts) one
    if (!config.prefetch || !shown || !info || (this.engine.state !== 'ready' && this.engine.state !== 'generating')) return;
    const next = planRequest(afterAccept(plan.snapshot, shown), config, plan.extras, info.target.fim, decodingParams());
    next.params.alternatives = plan.params.alternatives;
    next.params.priority = 'background';
    const { document } = next.snapshot;
    if (this.cache.get(document, next.built.prefix, next.built.suffix)?.complete) return;
    if (this.running?.serves(document, next.built)) return;
    this.running?.cancel(); // only the suggestion on screen now matters
    const g = new Generation(this.engine, next);
    this.running = g;
    void g.finished.then(() => {
      if (this.running === g) this.running = undefined;
      if (!g.succeeded || !g.result) return; // stopped by a request the user waited for, or failed (the log has it)
      const { prefix, suffix } = next.built;
      this.cache.set({
        document,
        prefix,
        suffix,
        text: g.text(),
        complete: true,
        alternatives: g.result.alternatives,
        params: next.params,
      });
      this.made.set(windowKey(document, prefix, suffix), true);
    });
  }

  /** The running prefetch if it serves this window (the user accepted, and maybe typed on). */
  runningFor(document: string, built: BuiltPrompt): Generation | undefined {
    return this.running?.serves(document, built) ? this.running : undefined;
  }

  /** Whether the cache entry behind a hit (its window: this one minus `typed` characters) came from a prefetch. */
  produced(document: string, built: BuiltPrompt, typed: number): boolean {
    return this.made.peek(windowKey(document, built.prefix.slice(0, built.prefix.length - typed), built.suffix)) === true;
  }

  cancel(): void {
    this.running?.cancel();
    this.running = undefined;
  }
}
