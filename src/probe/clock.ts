import { performance } from 'node:perf_hooks';

/** Microseconds on this process's monotonic clock. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** Epoch milliseconds that agree with nowUs() (both from the same clock). */
export function epochMs(us = nowUs()): number {
  return Math.round(performance.timeOrigin + us / 1000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
