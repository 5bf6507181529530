/**
 * Keepalive for slow links. A PINGREQ goes out every `intervalMs` counted from the previous
 * PINGRESP — received traffic never resets the clock, because a stream of QoS 0 messages from the
 * broker says nothing about whether *our* direction still works (a half-open TCP connection through
 * a cellular NAT looks exactly like that). If the PINGRESP is not back within `timeoutMs`, the link
 * is declared dead. The timeout is separate from the interval so a 2G link with seconds of latency
 * gets a generous wait without pinging rarely.
 *
 * The same wait bounds every other answer: once a packet the broker must answer (a PUBLISH with
 * QoS 1 or 2, PUBREC, PUBREL, SUBSCRIBE, UNSUBSCRIBE) is written, and then nothing at all comes
 * from the broker for `timeoutMs`, the link is dead too — without waiting for the next ping. A
 * broker answers each of those at once (MQTT 3.1.1 §4.3, §3.8.4: PUBACK, PUBREC, PUBREL, PUBCOMP,
 * SUBACK, UNSUBACK), so a broker that sends nothing while one is owed is gone or cannot be heard:
 * a dropped connection the module did not report, or a TLS record whose length was damaged on the
 * line, so that TLS waits for bytes that never complete it and hands nothing up. Any packet from the
 * broker renews this wait (an answer may be queued behind a backlog of messages to us), so it never
 * fires on a link that carries anything from the broker; a dead uplink behind a chatty broker is
 * what the PINGREQ deadline is for. The wait starts when the packet is written, not queued: a big
 * PUBLISH that takes a minute to leave at 9600 baud owes no answer before it is out.
 *
 * One exception for slow links: when a deadline falls while a packet is still arriving (a 100 kB
 * retained message takes minutes at 9600 baud, and the PINGRESP is queued behind it), the wait goes
 * on until that packet is complete. Bytes of small packets never extend it, so a chatty broker
 * cannot hide a dead uplink.
 */
export type KeepAliveTimeout = 'ping' | 'answer';

export class KeepAlive {
  private pingTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private answerTimer: NodeJS.Timeout | undefined;
  /** Packets written that the broker has not answered yet. */
  private owed = 0;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: (what: KeepAliveTimeout) => void,
    /** True while a packet is partly received. */
    private readonly receiving: () => boolean = () => false,
  ) {}

  start(): void {
    this.stop();
    this.stopped = false;
    this.schedulePing();
  }

  /** A PINGRESP arrived: the round trip works; next ping one interval from now. */
  pong(): void {
    if (this.deadlineTimer === undefined) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.schedulePing();
  }

  /** A packet the broker must answer was written to the link: an answer is owed from now. */
  written(): void {
    if (this.stopped) return;
    this.owed++;
    if (this.answerTimer === undefined) this.armAnswer(this.timeoutMs);
  }

  /** A packet arrived from the broker (`answer`: it answers one of ours): the broker is heard; the wait starts again. */
  received(answer: boolean): void {
    if (this.stopped) return;
    if (answer && this.owed > 0) this.owed--;
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = undefined;
    if (this.owed > 0) this.armAnswer(this.timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.pingTimer = undefined;
    this.deadlineTimer = undefined;
    this.answerTimer = undefined;
    this.owed = 0;
  }

  private schedulePing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = this.intervalMs > 0 ? setTimeout(() => this.ping(), this.intervalMs) : undefined;
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
      else this.onTimeout('ping');
    }, ms);
  }

  private armAnswer(ms: number): void {
    this.answerTimer = setTimeout(() => {
      this.answerTimer = undefined;
      if (this.receiving()) this.armAnswer(Math.min(1000, this.timeoutMs));
      else this.onTimeout('answer');
    }, ms);
  }
}

/** Default wait for PINGRESP: half the keepalive, at least 10 s (a slow cellular round trip), so a dead link is seen within 1.5 × keepalive. */
export function defaultPingTimeoutMs(keepaliveSeconds: number): number {
  return Math.max(10_000, (keepaliveSeconds * 1000) / 2);
}
