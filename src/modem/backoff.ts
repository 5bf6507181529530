/**
 * Capped exponential backoff with full jitter: each wait is random in [0, min(cap, base·2ⁿ)],
 * so a fleet of gateways that lost the network together does not come back in lock-step.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly limits: { baseMs: number; capMs: number },
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.limits.capMs, this.limits.baseMs * 2 ** this.attempt);
    this.attempt++;
    return Math.max(this.limits.baseMs / 4, Math.round(this.random() * ceiling));
  }

  reset(): void {
    this.attempt = 0;
  }
}
