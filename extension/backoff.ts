// Crash accounting for the engine process: restart with exponential backoff, give up after
// MAX_CRASHES within CRASH_WINDOW_MS.
export const MAX_CRASHES = 5;
export const CRASH_WINDOW_MS = 60_000;

/** Backoff before restart number n (1-based): 0.5 s, 1 s, 2 s, 4 s, capped at 8 s. */
export function restartDelay(n: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, n - 1));
}

/** The crash times inside the window ending at `now`. */
export function recentCrashes(times: number[], now: number, windowMs = CRASH_WINDOW_MS): number[] {
  return times.filter((t) => now - t <= windowMs);
}

/** True when the engine should not be restarted again. */
export function shouldGiveUp(times: number[], now: number): boolean {
  return recentCrashes(times, now).length >= MAX_CRASHES;
}

/** What to do after a crash: give up, or restart after `delayMs`. */
export interface CrashVerdict {
  /** Crashes inside the window, this one included. */
  recent: number;
  giveUp: boolean;
  delayMs: number;
}

/** The crashes of one engine process slot. */
export class CrashHistory {
  private times: number[] = [];

  record(now = Date.now()): CrashVerdict {
    this.times = recentCrashes([...this.times, now], now);
    return { recent: this.times.length, giveUp: shouldGiveUp(this.times, now), delayMs: restartDelay(this.times.length) };
  }

  /** Forgets earlier crashes (a restart the user asked for, new model settings). */
  clear(): void {
    this.times = [];
  }
}
