// Tracks what a user feels of completions, for the status bar and the stats view: the time from a
// trigger to its ghost text, how often a suggestion is accepted, and the engine's speed.
export interface LatencySample {
  /** From the provider call to the first text shown. */
  firstTextMs: number;
  /** From the provider call to the end of the generation. */
  totalMs: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerTargetPass: number;
}

/** The p-th percentile (0..100) of values (nearest rank); undefined when empty. */
export function percentileOf(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export class LatencyTracker {
  private readonly samples: LatencySample[] = [];
  /** Trigger to ghost text of every suggestion shown (cache and prefetch hits included). */
  private readonly ghostMs: number[] = [];
  cacheHits = 0;
  /** Suggestions served by a prefetch (its generation done or still running). */
  prefetchHits = 0;
  requests = 0;
  cancelled = 0;
  errors = 0;
  /** Alternatives whose whole text the prompt's draft tree held (no generation), and those generated. */
  alternativesFromTree = 0;
  alternativesGenerated = 0;
  /** Distinct suggestions shown (typing into one does not count again). */
  offered = 0;
  /** Of those, accepted wholly or in part (accept word / line). */
  accepted = 0;

  constructor(private readonly window = 50) {}

  add(sample: LatencySample): void {
    this.samples.push(sample);
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** A suggestion was shown `ms` after its trigger. */
  addGhost(ms: number): void {
    this.ghostMs.push(ms);
    if (this.ghostMs.length > this.window) this.ghostMs.shift();
  }

  get last(): LatencySample | undefined {
    return this.samples[this.samples.length - 1];
  }

  get count(): number {
    return this.samples.length;
  }

  get ghostCount(): number {
    return this.ghostMs.length;
  }

  /** The p-th percentile (0..100) of a field over the window; undefined when empty. */
  percentile(field: keyof LatencySample, p: number): number | undefined {
    return percentileOf(
      this.samples.map((s) => s[field]),
      p,
    );
  }

  /** The p-th percentile of trigger-to-ghost-text times over the window. */
  ghostPercentile(p: number): number | undefined {
    return percentileOf(this.ghostMs, p);
  }

  /** Accepted suggestions / suggestions shown; undefined before the first. */
  get acceptRate(): number | undefined {
    return this.offered > 0 ? this.accepted / this.offered : undefined;
  }
}
