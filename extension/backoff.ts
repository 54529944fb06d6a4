// Crash accounting for the engine process: the n-th crash within CRASH_WINDOW_MS restarts it after
// RESTART_DELAYS_MS[n - 1]; a crash beyond the schedule gives up. One list decides both, so every
// delay it holds is used and giving up comes right after the last one.
export const RESTART_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];
/** The crash within the window that stops the restarts: the first one the schedule has no delay for. */
export const MAX_CRASHES = RESTART_DELAYS_MS.length + 1;
export const CRASH_WINDOW_MS = 60_000;

/** The crash times inside the window ending at `now`. */
export function recentCrashes(times: number[], now: number, windowMs = CRASH_WINDOW_MS): number[] {
  return times.filter((t) => now - t <= windowMs);
}

/** True when the engine should not be restarted again. */
export function shouldGiveUp(times: number[], now: number): boolean {
  return recentCrashes(times, now).length >= MAX_CRASHES;
}

/** What to do after a crash: give up, or restart after `delayMs`. */
export type CrashVerdict =
  /** `recent`: the crashes inside the window, this one included. */
  { recent: number; giveUp: true } | { recent: number; giveUp: false; delayMs: number };

/** The crashes of one engine process slot. */
export class CrashHistory {
  private times: number[] = [];

  record(now = Date.now()): CrashVerdict {
    this.times = recentCrashes([...this.times, now], now);
    const recent = this.times.length;
    return shouldGiveUp(this.times, now) ? { recent, giveUp: true } : { recent, giveUp: false, delayMs: RESTART_DELAYS_MS[recent - 1] };
  }

  /** Forgets earlier crashes (a restart the user asked for, new model settings). */
  clear(): void {
    this.times = [];
  }
}
