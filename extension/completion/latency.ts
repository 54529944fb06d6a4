// Tracks recent completion latencies and engine speed for the status bar and the stats view.
export interface LatencySample {
  /** From the provider call to the first text shown. */
  firstTextMs: number;
  /** From the provider call to the end of the generation. */
  totalMs: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerTargetPass: number;
}

export class LatencyTracker {
  private readonly samples: LatencySample[] = [];
  cacheHits = 0;
  requests = 0;
  cancelled = 0;
  errors = 0;

  constructor(private readonly window = 50) {}

  add(sample: LatencySample): void {
    this.samples.push(sample);
    if (this.samples.length > this.window) this.samples.shift();
  }

  get last(): LatencySample | undefined {
    return this.samples[this.samples.length - 1];
  }

  get count(): number {
    return this.samples.length;
  }

  /** The p-th percentile (0..100) of a field over the window; undefined when empty. */
  percentile(field: keyof LatencySample, p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = this.samples.map((s) => s[field]).sort((a, b) => a - b);
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
  }
}
