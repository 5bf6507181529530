import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt-packet';

export type PublishProperties = NonNullable<IPublishPacket['properties']>;

/** Where a stored QoS≥1 message is in its flow: not yet sent, sent (awaiting PUBACK/PUBREC), released (PUBREL sent, awaiting PUBCOMP). */
export type DeliveryState = 'new' | 'sent' | 'released';

export interface NewMessage {
  topic: string;
  payload: Buffer;
  qos: 1 | 2;
  retain: boolean;
  properties?: PublishProperties;
}

export interface QueuedMessage extends NewMessage {
  /** Position in the queue; increases with every append and is never reused within a queue's life. */
  readonly seq: number;
  /** Wall-clock ms when appended (for the age bound). */
  readonly enqueuedAt: number;
  /** The packet id it was last sent with; kept so a resend after restart carries the same id (DUP=1). */
  packetId: number | undefined;
  state: DeliveryState;
}

export interface QueueBounds {
  /** Most messages held; the oldest unsent ones are dropped beyond it. */
  maxMessages?: number;
  /** Most payload+topic bytes held. */
  maxBytes?: number;
  /** Unsent messages older than this are dropped. */
  maxAgeMs?: number;
}

export interface QueueStats {
  messages: number;
  bytes: number;
  appended: number;
  acked: number;
  /** Dropped to stay within the bounds (counted, never silent). */
  dropped: number;
}

export type DropReason = 'count' | 'bytes' | 'age';

/**
 * The outbound store of QoS≥1 messages, oldest first (so per-topic order holds). The MQTT client
 * asks it for what to send next and reports each step of the flow back to it. The in-memory one
 * here serves plain clients; DurableQueue adds an on-disk log. Events: `drop` (message, reason).
 */
export class MemoryQueue extends EventEmitter {
  protected readonly bySeq = new Map<number, QueuedMessage>();
  protected nextSeq = 1;
  protected totalBytes = 0;
  protected counters = { appended: 0, acked: 0, dropped: 0 };

  constructor(protected readonly bounds: QueueBounds = {}, protected readonly now: () => number = Date.now) {
    super();
  }

  get size(): number {
    return this.bySeq.size;
  }

  append(message: NewMessage): QueuedMessage {
    const entry: QueuedMessage = { ...message, seq: this.nextSeq++, enqueuedAt: this.now(), packetId: undefined, state: 'new' };
    this.persistAppend(entry);
    this.bySeq.set(entry.seq, entry);
    this.totalBytes += sizeOf(entry);
    this.counters.appended++;
    this.enforceBounds();
    return entry;
  }

  /** Every held message, oldest first (a live view: safe to ack or mark while iterating). */
  messages(): IterableIterator<QueuedMessage> {
    this.dropExpired();
    return this.bySeq.values();
  }

  get(seq: number): QueuedMessage | undefined {
    return this.bySeq.get(seq);
  }

  markSent(seq: number, packetId: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry) return;
    entry.state = 'sent';
    entry.packetId = packetId;
    this.persistState(entry);
  }

  markReleased(seq: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry) return;
    entry.state = 'released';
    this.persistState(entry);
  }

  /** Back to unsent (the broker lost the session, so the old packet id means nothing). */
  markNew(seq: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry || entry.state === 'new') return;
    entry.state = 'new';
    entry.packetId = undefined;
    this.persistState(entry);
  }

  /** The flow finished (PUBACK, PUBCOMP, or a final refusal): forget the message. */
  ack(seq: number): void {
    if (this.remove(seq)) {
      this.counters.acked++;
    }
  }

  stats(): QueueStats {
    return { messages: this.bySeq.size, bytes: this.totalBytes, ...this.counters };
  }

  close(): void {}

  protected remove(seq: number, dropped = false): QueuedMessage | undefined {
    const entry = this.bySeq.get(seq);
    if (!entry) return undefined;
    this.bySeq.delete(seq);
    this.totalBytes -= sizeOf(entry);
    this.persistRemove(entry, dropped);
    return entry;
  }

  /** Hooks for the durable queue. */
  protected persistAppend(_entry: QueuedMessage): void {}
  protected persistState(_entry: QueuedMessage): void {}
  protected persistRemove(_entry: QueuedMessage, _dropped: boolean): void {}

  private enforceBounds(): void {
    this.dropExpired();
    const { maxMessages, maxBytes } = this.bounds;
    while (maxMessages !== undefined && this.bySeq.size > maxMessages && this.dropOldestUnsent('count'));
    while (maxBytes !== undefined && this.totalBytes > maxBytes && this.dropOldestUnsent('bytes'));
  }

  private dropExpired(): void {
    const { maxAgeMs } = this.bounds;
    if (maxAgeMs === undefined) return;
    const cutoff = this.now() - maxAgeMs;
    for (const entry of [...this.bySeq.values()]) {
      if (entry.enqueuedAt >= cutoff) break; // oldest first: the rest are younger
      if (entry.state === 'new') this.drop(entry, 'age');
    }
  }

  /** In-flight messages are never dropped: their packet ids may still live at the broker. */
  private dropOldestUnsent(reason: DropReason): boolean {
    for (const entry of this.bySeq.values()) {
      if (entry.state === 'new') {
        this.drop(entry, reason);
        return true;
      }
    }
    return false;
  }

  private drop(entry: QueuedMessage, reason: DropReason): void {
    this.remove(entry.seq, true);
    this.counters.dropped++;
    this.emit('drop', entry, reason);
  }
}

function sizeOf(entry: NewMessage): number {
  return entry.payload.length + Buffer.byteLength(entry.topic);
}

/** What the MQTT client needs from a queue (MemoryQueue and DurableQueue both fit). */
export type OutboundQueue = Pick<
  MemoryQueue,
  'append' | 'messages' | 'get' | 'markSent' | 'markReleased' | 'markNew' | 'ack' | 'stats' | 'close' | 'size' | 'on' | 'off'
>;
