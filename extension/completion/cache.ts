// The completion cache: remembers what the engine produced for a (document, prefix, suffix) window
// and also serves a completion the user is typing into: if the prefix grew by exactly the text the
// completion started with, the rest of that completion is still the right suggestion.
import type { CompleteParams, FirstTokenChoice } from '../../engine-native/host/protocol';
import { LruMap } from './lru';

export interface CachedCompletion {
  /** Document identity (uri + language), so two files with the same text do not share entries. */
  document: string;
  prefix: string;
  suffix: string;
  /** The post-processed completion text for exactly this prefix/suffix. */
  text: string;
  /** True when the engine finished (not a streamed partial result). */
  complete: boolean;
  /** The target's next most likely first tokens for this window (the seeds of alternative suggestions). */
  alternatives?: FirstTokenChoice[];
  /** The request that produced it (its extra context may be older than the current one). */
  params?: CompleteParams;
}

export interface CacheHit {
  text: string;
  /** Characters of the cached completion the user has already typed. */
  typed: number;
  complete: boolean;
  /** Set for an exact hit only: after typed text the first token is another one. */
  alternatives?: FirstTokenChoice[];
  params?: CompleteParams;
}

export class CompletionCache {
  private readonly lru: LruMap<string, CachedCompletion>;

  constructor(capacity = 64) {
    this.lru = new LruMap(capacity);
  }

  get size(): number {
    return this.lru.size;
  }

  private static key(document: string, prefix: string, suffix: string): string {
    return `${document}\u0000${prefix.length}\u0000${prefix}\u0000${suffix}`;
  }

  set(entry: CachedCompletion): void {
    const key = CompletionCache.key(entry.document, entry.prefix, entry.suffix);
    const old = this.lru.peek(key);
    // a finished result is never replaced by a shorter streamed partial one
    if (old && old.complete && !entry.complete) return;
    this.lru.set(key, entry);
  }

  /**
   * The completion for this window: an exact hit, or an entry whose prefix plus the first `typed`
   * characters of its text equals the current prefix (the user typed into the suggestion).
   * Complete results are preferred to partial ones; an empty remainder is not a hit.
   */
  get(document: string, prefix: string, suffix: string): CacheHit | undefined {
    const exact = this.lru.get(CompletionCache.key(document, prefix, suffix));
    if (exact)
      return { text: exact.text, typed: 0, complete: exact.complete, ...(exact.alternatives ? { alternatives: exact.alternatives } : {}) };
    let best: CacheHit | undefined;
    for (const [key, e] of this.lru.entries()) {
      if (e.document !== document || e.suffix !== suffix) continue;
      if (prefix.length <= e.prefix.length || !prefix.startsWith(e.prefix)) continue;
      const typed = prefix.slice(e.prefix.length);
      if (!e.text.startsWith(typed) || e.text.length === typed.length) continue;
      const hit = {
        text: e.text.slice(typed.length),
        typed: typed.length,
        complete: e.complete,
        ...(e.params ? { params: e.params } : {}),
      };
      if (!best || (hit.complete && !best.complete) || (hit.complete === best.complete && hit.text.length > best.text.length)) {
        best = hit;
        this.lru.get(key); // refresh recency
      }
    }
    return best;
  }

  clear(): void {
    this.lru.clear();
  }
}
