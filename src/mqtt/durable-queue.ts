import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, ftruncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AtbridgeError, errorMessage } from '../errors.js';
import { crc32 } from './crc32.js';
import { MemoryQueue, type PublishProperties, type QueueBounds, type QueuedMessage } from './outbound-queue.js';

/**
 * When appended records reach the disk platter. Every record is written to the file with one
 * write(2) at once, so all three survive kill -9 of the process; they differ on power loss.
 * - `always`: fsync after every record (slow on SD cards, loses nothing),
 * - `interval`: fsync at most every `fsyncIntervalMs` when something changed (default),
 * - `never`: leave it to the OS.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** Options of {@link DurableQueue.open}. */
export interface DurableQueueOptions extends QueueBounds {
  /** Directory of the queue's log files (created if missing; one process owns it). */
  dir: string;
  /** Flush policy (default interval). */
  fsync?: FsyncPolicy;
  /** Interval for the interval policy (default 1000 ms). */
  fsyncIntervalMs?: number;
  /** Start a new log file after this many bytes; a file is deleted once all its messages are done. */
  segmentBytes?: number;
  /** @internal Clock for the age bound. */
  now?: () => number;
}

const enum Kind {
  Append = 1,
  Sent = 2,
  Released = 3,
  New = 4,
  Ack = 5,
  Drop = 6,
}

interface Segment {
  number: number;
  path: string;
  /** Seqs appended in this file and not yet acked or dropped. */
  live: Set<number>;
  bytes: number;
}

const HEADER = 8; // u32 body length + u32 CRC-32 of the body
const SEGMENT_NAME = /^(\d{10})\.log$/;

/**
 * An outbound queue kept as append-only log files in a directory: each change (append, sent with
 * packet id, released, acked, dropped) is one CRC-guarded record. Opening replays the logs, so after
 * a crash or kill -9 every unacknowledged QoS≥1 message is back in order with its state and packet
 * id; a record torn mid-write is cut off. Files are deleted from the oldest once all their messages
 * are done. One process at a time: a LOCK file holds the owner's pid.
 */
export class DurableQueue extends MemoryQueue {
  private readonly segments: Segment[] = [];
  private readonly segmentOfSeq = new Map<number, Segment>();
  private fd: number | undefined;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly segmentBytes: number;
  private dirty = false;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private replaying = false;
  /** Torn or corrupt records skipped while opening (normally 0, or 1 after kill -9 mid-write). */
  readonly recoveredDamage: { tornRecords: number };

  private constructor(private readonly options: DurableQueueOptions) {
    super(options, options.now);
    this.fsyncPolicy = options.fsync ?? 'interval';
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.recoveredDamage = { tornRecords: 0 };
  }

  /** Opens (creating if needed) the queue in `dir` and replays what an earlier run left. */
  static open(options: DurableQueueOptions): DurableQueue {
    const queue = new DurableQueue(options);
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (err) {
      throw new AtbridgeError('queue-open-failed', `cannot create queue directory ${options.dir}: ${errorMessage(err)}`);
    }
    takeLock(options.dir);
    queue.replay();
    return queue;
  }

  /** The queue's directory. */
  get directory(): string {
    return this.options.dir;
  }

  /** Flushes and closes the log and releases the directory's lock. */
  override close(): void {
    if (this.fsyncTimer) clearTimeout(this.fsyncTimer);
    this.fsyncTimer = undefined;
    if (this.fd !== undefined) {
      if (this.fsyncPolicy !== 'never') fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
    try {
      unlinkSync(join(this.options.dir, 'LOCK'));
    } catch {
      // already gone
    }
  }

  /** @internal */
  protected override persistAppend(entry: QueuedMessage): void {
    if (this.replaying) return;
    const topic = Buffer.from(entry.topic);
    const props = entry.properties ? Buffer.from(JSON.stringify(entry.properties)) : Buffer.alloc(0);
    const body = Buffer.alloc(1 + 8 + 8 + 1 + 1 + 2 + topic.length + 4 + props.length + entry.payload.length);
    let o = body.writeUInt8(Kind.Append, 0);
    o = body.writeDoubleBE(entry.seq, o);
    o = body.writeDoubleBE(entry.enqueuedAt, o);
    o = body.writeUInt8(entry.qos, o);
    o = body.writeUInt8(entry.retain ? 1 : 0, o);
    o = body.writeUInt16BE(topic.length, o);
    o += topic.copy(body, o);
    o = body.writeUInt32BE(props.length, o);
    o += props.copy(body, o);
    entry.payload.copy(body, o);
    if (this.fd === undefined || this.current().bytes >= this.segmentBytes) this.startSegment();
    const segment = this.current();
    segment.live.add(entry.seq);
    this.segmentOfSeq.set(entry.seq, segment);
    this.writeRecord(body);
  }

  /** @internal */
  protected override persistState(entry: QueuedMessage): void {
    if (this.replaying) return;
    if (entry.state === 'sent') {
      const body = Buffer.alloc(11);
      body.writeUInt8(Kind.Sent, 0);
      body.writeDoubleBE(entry.seq, 1);
      body.writeUInt16BE(entry.packetId ?? 0, 9);
      this.writeRecord(body);
    } else {
      this.writeRecord(seqRecord(entry.state === 'released' ? Kind.Released : Kind.New, entry.seq));
    }
  }

  /** @internal */
  protected override persistRemove(entry: QueuedMessage, dropped: boolean): void {
    if (this.replaying) return;
    this.writeRecord(seqRecord(dropped ? Kind.Drop : Kind.Ack, entry.seq));
    const segment = this.segmentOfSeq.get(entry.seq);
    this.segmentOfSeq.delete(entry.seq);
    segment?.live.delete(entry.seq);
    this.deleteFinishedSegments();
  }

  private current(): Segment {
    const segment = this.segments[this.segments.length - 1];
    if (!segment) throw new Error('durable queue has no open segment');
    return segment;
  }

  private writeRecord(body: Buffer): void {
    if (this.fd === undefined) this.startSegment();
    const record = Buffer.alloc(HEADER + body.length);
    record.writeUInt32BE(body.length, 0);
    record.writeUInt32BE(crc32(body), 4);
    body.copy(record, HEADER);
    writeSync(this.fd!, record); // one write per record: a crash tears at most the last one
    this.current().bytes += record.length;
    this.syncPerPolicy();
  }

  private syncPerPolicy(): void {
    if (this.fsyncPolicy === 'always') {
      fsyncSync(this.fd!);
    } else if (this.fsyncPolicy === 'interval') {
      this.dirty = true;
      this.fsyncTimer ??= setTimeout(() => {
        this.fsyncTimer = undefined;
        if (this.dirty && this.fd !== undefined) fsyncSync(this.fd);
        this.dirty = false;
      }, this.options.fsyncIntervalMs ?? 1000).unref();
    }
  }

  private startSegment(): void {
    if (this.fd !== undefined) {
      if (this.fsyncPolicy !== 'never') fsyncSync(this.fd);
      closeSync(this.fd);
    }
    const number = (this.segments[this.segments.length - 1]?.number ?? 0) + 1;
    const path = join(this.options.dir, `${String(number).padStart(10, '0')}.log`);
    this.fd = openSync(path, 'a');
    this.segments.push({ number, path, live: new Set(), bytes: 0 });
  }

  /** Only from the oldest end: a newer file may hold state records of an older file's messages. */
  private deleteFinishedSegments(): void {
    while (this.segments.length > 1 && this.segments[0]!.live.size === 0) {
      const segment = this.segments.shift()!;
      unlinkSync(segment.path);
    }
  }

  private replay(): void {
    const files = readdirSync(this.options.dir)
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ number: Number(m[1]), path: join(this.options.dir, m[0]) }))
      .sort((a, b) => a.number - b.number);
    this.replaying = true;
    try {
      for (const file of files) {
        const segment: Segment = { ...file, live: new Set(), bytes: 0 };
        this.segments.push(segment);
        segment.bytes = this.replaySegment(segment);
      }
    } finally {
      this.replaying = false;
    }
    const last = this.segments[this.segments.length - 1];
    if (last) this.fd = openSync(last.path, 'a');
    this.deleteFinishedSegments();
  }

  /** Applies one file's records; returns the byte length of its whole records (a torn tail is cut off). */
  private replaySegment(segment: Segment): number {
    const data = readFileSync(segment.path);
    let offset = 0;
    while (offset + HEADER <= data.length) {
      const length = data.readUInt32BE(offset);
      const end = offset + HEADER + length;
      if (end > data.length) break;
      const body = data.subarray(offset + HEADER, end);
      if (crc32(body) !== data.readUInt32BE(offset + 4)) break;
      this.applyRecord(body, segment);
      offset = end;
    }
    if (offset < data.length) {
      this.recoveredDamage.tornRecords++;
      const fd = openSync(segment.path, 'r+');
      ftruncateSync(fd, offset);
      closeSync(fd);
    }
    return offset;
  }

  private applyRecord(body: Buffer, segment: Segment): void {
    const kind = body.readUInt8(0) as Kind;
    const seq = body.readDoubleBE(1);
    if (kind === Kind.Append) {
      let o = 9;
      const enqueuedAt = body.readDoubleBE(o);
      o += 8;
      const qos = body.readUInt8(o++) === 2 ? 2 : 1;
      const retain = body.readUInt8(o++) === 1;
      const topicLength = body.readUInt16BE(o);
      o += 2;
      const topic = body.toString('utf8', o, o + topicLength);
      o += topicLength;
      const propsLength = body.readUInt32BE(o);
      o += 4;
      const properties = propsLength > 0 ? (JSON.parse(body.toString('utf8', o, o + propsLength), reviveBuffers) as PublishProperties) : undefined;
      o += propsLength;
      const payload = Buffer.from(body.subarray(o));
      const entry: QueuedMessage = { seq, enqueuedAt, topic, payload, qos, retain, packetId: undefined, state: 'new' };
      if (properties) entry.properties = properties;
      this.bySeq.set(seq, entry);
      this.totalBytes += payload.length + Buffer.byteLength(topic);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      segment.live.add(seq);
      this.segmentOfSeq.set(seq, segment);
      return;
    }
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    const entry = this.bySeq.get(seq);
    if (!entry) return; // its file was already deleted
    if (kind === Kind.Sent) {
      entry.state = 'sent';
      entry.packetId = body.readUInt16BE(9);
    } else if (kind === Kind.Released) {
      entry.state = 'released';
    } else if (kind === Kind.New) {
      entry.state = 'new';
      entry.packetId = undefined;
    } else if (kind === Kind.Ack || kind === Kind.Drop) {
      this.bySeq.delete(seq);
      this.totalBytes -= entry.payload.length + Buffer.byteLength(entry.topic);
      this.segmentOfSeq.get(seq)?.live.delete(seq);
      this.segmentOfSeq.delete(seq);
    }
  }
}

function seqRecord(kind: Kind, seq: number): Buffer {
  const body = Buffer.alloc(9);
  body.writeUInt8(kind, 0);
  body.writeDoubleBE(seq, 1);
  return body;
}

function reviveBuffers(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data);
  }
  return value;
}

/** One owner per queue directory; a lock left by a killed process (its pid gone) is taken over. */
function takeLock(dir: string): void {
  const path = join(dir, 'LOCK');
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AtbridgeError('queue-open-failed', `cannot lock queue ${dir}: ${errorMessage(err)}`);
  }
  const owner = Number(readFileSync(path, 'utf8').trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
    throw new AtbridgeError('queue-locked', `queue ${dir} is in use by process ${owner}`, {
      fix: 'run one publisher per queue directory, or give this one its own --queue DIR',
    });
  }
  writeFileSync(path, String(process.pid));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
