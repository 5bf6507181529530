/**
 * Keepalive for slow links. A PINGREQ goes out every `intervalMs` counted from the previous
 * PINGRESP — received traffic never resets the clock, because a stream of QoS 0 messages from the
 * broker says nothing about whether *our* direction still works (a half-open TCP connection through
 * a cellular NAT looks exactly like that). If the PINGRESP is not back within `timeoutMs`, the link
 * is declared dead. The timeout is separate from the interval so a 2G link with seconds of latency
 * gets a generous wait without pinging rarely.
 *
 * One exception for slow links: when the deadline falls while a packet is still arriving (a 100 kB
 * retained message takes minutes at 9600 baud, and the PINGRESP is queued behind it), the wait goes
 * on until that packet is complete. Bytes of small packets never extend it, so a chatty broker
 * cannot hide a dead uplink.
 */
export class KeepAlive {
  private pingTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: () => void,
    /** True while a packet is partly received. */
    private readonly receiving: () => boolean = () => false,
  ) {}

  start(): void {
    this.stop();
    if (this.intervalMs > 0) this.pingTimer = setTimeout(() => this.ping(), this.intervalMs);
  }

  /** A PINGRESP arrived: the round trip works; next ping one interval from now. */
  pong(): void {
    if (this.deadlineTimer === undefined) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.start();
  }

  stop(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.pingTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private ping(): void {
    this.pingTimer = undefined;
    this.armDeadline(this.timeoutMs);
    this.sendPing();
  }

  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.receiving()) this.armDeadline(Math.min(1000, this.timeoutMs));
      else this.onTimeout();
    }, ms);
  }
}

/** Default wait for PINGRESP: half the keepalive, at least 10 s (a slow cellular round trip), so a dead link is seen within 1.5 × keepalive. */
export function defaultPingTimeoutMs(keepaliveSeconds: number): number {
  return Math.max(10_000, (keepaliveSeconds * 1000) / 2);
}
