import { distribution, type Distribution } from './stats.js';

interface SentMessage {
  qos: number;
  sentUs: number;
  sentEpochMs: number;
  received: number;
  ackMs?: number;
  failed?: string;
}

export interface QosFigures {
  qos: number;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Publish to PUBACK (QoS 1) or PUBCOMP (QoS 2), ms; QoS 0 has none. */
  ack: Distribution | undefined;
  delay: Distribution | undefined;
  /** Publishes that failed (the client closed, a queue dropped them). */
  failed: number;
}

export interface DelayPoint {
  /** Send time, seconds since the run's start. */
  t: number;
  /** Delay, ms. */
  delay: number;
  qos: number;
}

/**
 * Accounts for every probe message by (run id, sequence number): send, acknowledgement, arrivals
 * (a second arrival is a duplicate), and what never came (lost).
 */
export class MessageTracker {
  private readonly sent = new Map<string, SentMessage>();
  readonly points: DelayPoint[] = [];
  private foreignCount = 0;

  constructor(private readonly startUs: number) {}

  private key(runId: string, seq: number): string {
    return `${runId}/${seq}`;
  }

  recordSend(runId: string, seq: number, qos: number, sentUs: number, sentEpochMs: number): void {
    this.sent.set(this.key(runId, seq), { qos, sentUs, sentEpochMs, received: 0 });
  }

  recordAck(runId: string, seq: number, ackMs: number): void {
    const m = this.sent.get(this.key(runId, seq));
    if (m) m.ackMs = ackMs;
  }

  recordFailure(runId: string, seq: number, reason: string): void {
    const m = this.sent.get(this.key(runId, seq));
    if (m) m.failed = reason;
  }

  /** An arrival: 'first' (its delay counts), 'duplicate', or 'foreign' (not ours). */
  recordArrival(runId: string, seq: number, nowUs: number): { kind: 'first' | 'duplicate'; delayMs: number; qos: number } | { kind: 'foreign' } {
    const m = this.sent.get(this.key(runId, seq));
    if (!m) {
      this.foreignCount++;
      return { kind: 'foreign' };
    }
    m.received++;
    const delayMs = (nowUs - m.sentUs) / 1000;
    if (m.received > 1) return { kind: 'duplicate', delayMs, qos: m.qos };
    this.points.push({ t: (m.sentUs - this.startUs) / 1e6, delay: delayMs, qos: m.qos });
    return { kind: 'first', delayMs, qos: m.qos };
  }

  get foreign(): number {
    return this.foreignCount;
  }

  get sentCount(): number {
    return this.sent.size;
  }

  get receivedCount(): number {
    return this.points.length;
  }

  /** Sent and not (yet) received. */
  get missing(): number {
    return this.sent.size - this.points.length;
  }

  /** Every QoS level's acks are in and every message has arrived. */
  get complete(): boolean {
    for (const m of this.sent.values()) {
      if (m.received === 0 && m.failed === undefined) return false;
      if (m.qos > 0 && m.ackMs === undefined && m.failed === undefined) return false;
    }
    return true;
  }

  /** The messages never received, for the result file. */
  lostMessages(): { runId: string; seq: number; qos: number; sentEpochMs: number; failed?: string }[] {
    const out: { runId: string; seq: number; qos: number; sentEpochMs: number; failed?: string }[] = [];
    for (const [key, m] of this.sent) {
      if (m.received > 0) continue;
      const slash = key.lastIndexOf('/');
      out.push({ runId: key.slice(0, slash), seq: Number(key.slice(slash + 1)), qos: m.qos, sentEpochMs: m.sentEpochMs, ...(m.failed ? { failed: m.failed } : {}) });
    }
    return out;
  }

  perQos(levels: readonly number[]): QosFigures[] {
    return [...new Set(levels)].sort().map((qos) => {
      const msgs = [...this.sent.values()].filter((m) => m.qos === qos);
      const acks = msgs.map((m) => m.ackMs).filter((a): a is number => a !== undefined);
      return {
        qos,
        sent: msgs.length,
        received: msgs.filter((m) => m.received > 0).length,
        lost: msgs.filter((m) => m.received === 0).length,
        duplicates: msgs.reduce((n, m) => n + Math.max(0, m.received - 1), 0),
        ack: qos === 0 ? undefined : distribution(acks),
        delay: distribution(this.points.filter((p) => p.qos === qos).map((p) => p.delay)),
        failed: msgs.filter((m) => m.failed !== undefined).length,
      };
    });
  }
}
