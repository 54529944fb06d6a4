// Notices an engine that stopped working without dying (a stuck native call, SIGSTOP, a machine
// deep in swap), which would otherwise leave requests waiting forever. While requests are in
// flight it pings the engine (specexec/status) every PING_INTERVAL_MS: an engine that does not
// answer within PING_TIMEOUT_MS is hung, and so is one that is generating (for any client) while its
// native heartbeat has not moved for the stall bound. The heartbeat counts llama.cpp's polls between
// graph nodes and every pass, so a slow pass is not a stall; the bound comes from the measured pass
// cost. The owner of the connection decides what to do (kill it and restart, as after a crash).
import type { CostPoint, EngineStatus } from './protocol';

export const PING_INTERVAL_MS = 2_000;
/** A ping is answered by the host's event loop, which a generation does not block (it runs on a worker thread). */
export const PING_TIMEOUT_MS = 10_000;
/** No stall bound is shorter: start-up noise, a page-in of weights after the machine swapped. */
export const STALL_FLOOR_MS = 30_000;
/** The heartbeat moves at least once a pass: this many of the slowest measured passes without one is a stall. */
export const STALL_PASSES = 20;

/** How long a generating engine's heartbeat may stand still: STALL_PASSES of its slowest measured pass, at least STALL_FLOOR_MS. */
export function stallBoundMs(calibration: { target: CostPoint[]; draft: CostPoint[] }): number {
  const slowest = Math.max(0, ...calibration.target.map((p) => p.ms), ...calibration.draft.map((p) => p.ms));
  return Math.max(STALL_FLOOR_MS, STALL_PASSES * slowest);
}

export interface WatchdogOptions {
  /** specexec/status on the watched connection. */
  ping: () => Promise<EngineStatus>;
  stallBoundMs: number;
  /** Called once, with the reason; the watchdog stops. */
  onHung: (why: string) => void;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  now?: () => number;
}

export class EngineWatchdog {
  private inFlight = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private pinging = false;
  private stopped = false;
  /** The last heartbeat seen while generating, and when it last moved. */
  private beat: { value: number; since: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: WatchdogOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A request went out: watched until the returned function is called. */
  track(): () => void {
    this.inFlight++;
    if (this.inFlight === 1 && !this.stopped) {
      this.timer = setInterval(() => void this.check(), this.options.pingIntervalMs ?? PING_INTERVAL_MS);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.inFlight === 0) this.pause();
    };
  }

  dispose(): void {
    this.stopped = true;
    this.pause();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.beat = undefined;
  }

  /** One ping (public: a test drives it without waiting for the interval). */
  async check(): Promise<void> {
    if (this.pinging || this.stopped) return;
    this.pinging = true;
    const timeoutMs = this.options.pingTimeoutMs ?? PING_TIMEOUT_MS;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      const status = await Promise.race([
        this.options.ping(),
        new Promise<undefined>((resolve) => (timeout = setTimeout(() => resolve(undefined), timeoutMs))),
      ]);
      if (status === undefined) return this.hung(`it did not answer a ping within ${timeoutMs / 1000} s`);
      this.observe(status.activity);
    } catch {
      // the connection failed: the owner sees the engine end through its exit path
    } finally {
      clearTimeout(timeout);
      this.pinging = false;
    }
  }

  private observe(activity: EngineStatus['activity']): void {
    if (this.inFlight === 0) return;
    const now = this.now();
    if (!activity.generating) {
      this.beat = undefined; // waiting between jobs, or loading: not a generation that could stall
      return;
    }
    if (!this.beat || this.beat.value !== activity.heartbeat) {
      this.beat = { value: activity.heartbeat, since: now };
      return;
    }
    const still = now - this.beat.since;
    if (still >= this.options.stallBoundMs) {
      this.hung(
        `its generation made no progress for ${Math.round(still / 1000)} s (bound ${Math.round(this.options.stallBoundMs / 1000)} s)`,
      );
    }
  }

  private hung(why: string): void {
    if (this.stopped) return;
    this.dispose();
    this.options.onHung(why);
  }
}
