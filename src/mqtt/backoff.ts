export interface BackoffOptions {
  /** First delay before jitter, ms. */
  baseMs: number;
  /** Upper bound of the delay before jitter, ms. */
  capMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so a fleet
 * of gateways that lost the same cell tower does not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}
