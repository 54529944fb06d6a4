// Debounces completion requests: each call supersedes the previous one, which then resolves false.
export interface CancellationLike {
  isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export class Debouncer {
  private pending: { timer: ReturnType<typeof setTimeout>; resolve: (ok: boolean) => void } | undefined;

  /** Resolves true after `ms` unless another wait() started or the token was cancelled first. */
  wait(ms: number, token?: CancellationLike): Promise<boolean> {
    this.cancel();
    if (token?.isCancellationRequested) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean) => {
        subscription?.dispose();
        if (this.pending?.resolve === settle) this.pending = undefined;
        resolve(ok);
      };
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        finish(ok);
      };
      const timer = setTimeout(() => finish(true), ms);
      this.pending = { timer, resolve: settle };
      // declared last: nothing calls finish() before this line runs (the token was not cancelled above)
      const subscription = token?.onCancellationRequested(() => settle(false));
    });
  }

  /** Resolves the pending wait (if any) with false. */
  cancel(): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(false);
  }
}
