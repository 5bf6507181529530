/**
 * mosquitto's `restart_timeout BASE CAP`: "decorrelated jitter" (each wait is random between BASE
 * and three times the previous wait, capped), so gateways that lost the same tower do not all
 * return at once. With BASE only (CAP undefined) every wait is BASE.
 */
export class DecorrelatedJitter {
  private last: number;

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.last = baseMs;
  }

  next(): number {
    if (this.capMs === undefined) return this.baseMs;
    const high = Math.max(this.baseMs, this.last * 3);
    this.last = Math.min(this.capMs, this.baseMs + this.random() * (high - this.baseMs));
    return Math.round(this.last);
  }

  reset(): void {
    this.last = this.baseMs;
  }
}

/** Waits `ms`, or rejects at once when `signal` aborts (shutdown must not sit out a 30 s backoff). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
