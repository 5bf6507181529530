import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt-packet';

/** MQTT 5 PUBLISH properties (content type, user properties, expiry …) stored with a message. */
export type PublishProperties = NonNullable<IPublishPacket['properties']>;

/** Where a stored QoS≥1 message is in its flow: not yet sent, sent (awaiting PUBACK/PUBREC), released (PUBREL sent, awaiting PUBCOMP). */
export type DeliveryState = 'new' | 'sent' | 'released';

/** A QoS 1 or 2 message handed to a queue. */
export interface NewMessage {
  topic: string;
  payload: Buffer;
  qos: 1 | 2;
  retain: boolean;
  properties?: PublishProperties;
}

/** A message held by a queue, with where it is in its delivery flow. */
export interface QueuedMessage extends NewMessage {
  /** Position in the queue; increases with every append and is never reused within a queue's life. */
  readonly seq: number;
  /** Wall-clock ms when appended (for the age bound). */
  readonly enqueuedAt: number;
  /** The packet id it was last sent with; kept so a resend after restart carries the same id (DUP=1). */
  packetId: number | undefined;
  state: DeliveryState;
}

/** Limits on what a queue holds; beyond them the oldest unsent messages are dropped (and counted). */
export interface QueueBounds {
  /** Most messages held; the oldest unsent ones are dropped beyond it. */
  maxMessages?: number;
  /** Most payload+topic bytes held. */
  maxBytes?: number;
  /** Unsent messages older than this are dropped. */
  maxAgeMs?: number;
}

/** Counters of a queue, for status reports and metrics. */
export interface QueueStats {
  messages: number;
  bytes: number;
  appended: number;
  acked: number;
  /** Dropped to stay within the bounds (counted, never silent). */
  dropped: number;
}

/** Which bound made a queue drop a message. */
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

  /** @param bounds limits on what is held; @param now clock for the age bound (tests pass their own). */
  constructor(protected readonly bounds: QueueBounds = {}, /** @internal */ protected readonly now: () => number = Date.now) {
    super();
  }

  /** Messages held (unsent and in flight). */
  get size(): number {
    return this.bySeq.size;
  }

  /** Stores a new message at the end of the queue and returns it with its sequence number. */
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

  /** The held message with this sequence number, if any. */
  get(seq: number): QueuedMessage | undefined {
    return this.bySeq.get(seq);
  }

  /** The message went out with this packet id (awaiting PUBACK or PUBREC). */
  markSent(seq: number, packetId: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry) return;
    entry.state = 'sent';
    entry.packetId = packetId;
    this.persistState(entry);
  }

  /** PUBREL sent for this QoS 2 message (awaiting PUBCOMP). */
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

  /** Current counters. */
  stats(): QueueStats {
    return { messages: this.bySeq.size, bytes: this.totalBytes, ...this.counters };
  }

  /** Releases what the queue holds open (nothing for the memory queue). */
  close(): void {}

  /** @internal Removes a message (acknowledged or dropped). */
  protected remove(seq: number, dropped = false): QueuedMessage | undefined {
    const entry = this.bySeq.get(seq);
    if (!entry) return undefined;
    this.bySeq.delete(seq);
    this.totalBytes -= sizeOf(entry);
    this.persistRemove(entry, dropped);
    return entry;
  }

  /** @internal Hook for the durable queue: a message was appended. */
  protected persistAppend(_entry: QueuedMessage): void {}
  /** @internal Hook for the durable queue: a message changed state. */
  protected persistState(_entry: QueuedMessage): void {}
  /** @internal Hook for the durable queue: a message was removed. */
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
