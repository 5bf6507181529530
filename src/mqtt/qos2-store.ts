import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { AtbridgeError, errorMessage } from '../errors.js';
import { crc32 } from './crc32.js';
import type { FsyncPolicy } from './durable-queue.js';

/**
 * The receiver's half of the QoS 2 session state, kept where an MqttClient can find it again after
 * a `kill -9` or a power cut: the ids of incoming QoS 2 messages received and not yet released
 * (MQTT 3.1.1 / 5.0 §4.3.3, "Method B": the receiver stores the Packet Identifier from its PUBREC
 * until the PUBREL, and until then answers any PUBLISH with that id with a PUBREC and MUST NOT
 * deliver it again), and the ids released with the message's digest and when (the resend guard of
 * `MqttClient.noteReleased`: mosquitto 2.0.11 resends a released PUBLISH when it restarts).
 * 3.1.1 §3.1.2.4 lists "QoS 2 messages which have been received from the Server, but have not been
 * completely acknowledged" as session state a client keeps for as long as the session lasts, and a
 * session outlives the client's process when clean=false.
 */
export interface Qos2State {
  /** What an earlier run left: incoming ids not released (→ digest), released ids (→ digest, when). */
  load(): { received: Map<number, number>; released: Map<number, { digest: number; at: number }> };
  /** An incoming QoS 2 PUBLISH taken (before it is delivered). */
  received(id: number, digest: number): void;
  /** Its PUBREL came (the id leaves the received set). */
  released(id: number, digest: number, at: number): void;
  /** The broker lost the session (CONNACK without session present): nothing of it counts. */
  clear(): void;
  /** What was recorded is on disk as the fsync policy asks; called before the PUBREC / PUBCOMP goes out. */
  sync(): void;
  close(): void;
}

/** Options of {@link Qos2Store.open}. */
export interface Qos2StoreOptions {
  /** The file (in the queue directory; one process owns it, as the queue's LOCK says). */
  path: string;
  /** As the queue's: `always` fsyncs before each PUBREC / PUBCOMP, `interval` at most every `fsyncIntervalMs`. */
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Released ids older than this are dropped when the file is rewritten (the client ignores them anyway). */
  keepMs?: number;
  /** An older file of `+id` / `-id` lines (the bridge's received ids before this store): read once, then removed. */
  legacyReceivedPath?: string;
  /** @internal */
  now?: () => number;
}

const enum Kind {
  Received = 1,
  Released = 2,
}

/** kind u8, id u16, digest u48, at f64 (ms), CRC-32 of those 17 bytes. */
const RECORD = 21;
const BODY = 17;
/** Rewrite the file when this many records were appended since the last rewrite, and at least twice the live ones. */
const REWRITE_AFTER = 4096;

/**
 * {@link Qos2State} in one file of fixed-size records, appended with one write(2) each. Each record
 * carries its own CRC and sits at a multiple of 21 bytes, so a torn or damaged record costs only
 * itself: the reader checks every slot and keeps the rest. Opening replays the file and rewrites it
 * with the live entries (a temporary file, fsynced, renamed over it: a crash leaves the old or the
 * new), as it does every few thousand records, so it stays bounded: at most 65,535 ids of each kind
 * are live, 21 bytes each.
 */
export class Qos2Store implements Qos2State {
  private readonly receivedIds = new Map<number, number>();
  private readonly releasedIds = new Map<number, { digest: number; at: number }>();
  private fd: number | undefined;
  private appended = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly fsync: FsyncPolicy;
  private readonly now: () => number;
  /** Records skipped as damaged when the file was opened (a torn tail counts as one). */
  readonly damagedRecords: number;

  private constructor(private readonly options: Qos2StoreOptions) {
    this.fsync = options.fsync ?? 'interval';
    this.now = options.now ?? Date.now;
    let damaged = 0;
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(options.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(options.path, err);
    }
    if (bytes) {
      for (let o = 0; o + RECORD <= bytes.length; o += RECORD) {
        if (!this.apply(bytes.subarray(o, o + RECORD))) damaged++;
      }
      if (bytes.length % RECORD !== 0) damaged++;
    } else if (options.legacyReceivedPath && existsSync(options.legacyReceivedPath)) {
      // No digest in the old file: such an id is held until its PUBREL, and a release of it never matches a resend.
      for (const line of readFileSync(options.legacyReceivedPath, 'utf8').split('\n')) {
        const id = Number(line.slice(1));
        if (!Number.isInteger(id) || id < 1 || id > 65535) continue;
        if (line.startsWith('+')) this.receivedIds.set(id, -1);
        else if (line.startsWith('-')) this.receivedIds.delete(id);
      }
    }
    this.damagedRecords = damaged;
    this.rewrite();
    if (options.legacyReceivedPath) {
      try {
        unlinkSync(options.legacyReceivedPath);
      } catch {
        // none
      }
    }
  }

  /** Opens (creating it if missing) the store at `options.path`, replaying what is there. */
  static open(options: Qos2StoreOptions): Qos2Store {
    return new Qos2Store(options);
  }

  load(): { received: Map<number, number>; released: Map<number, { digest: number; at: number }> } {
    return { received: new Map(this.receivedIds), released: new Map(this.releasedIds) };
  }

  /** Ids received and not released, now. */
  get receivedCount(): number {
    return this.receivedIds.size;
  }

  /** Released ids kept, now. */
  get releasedCount(): number {
    return this.releasedIds.size;
  }

  received(id: number, digest: number): void {
    this.receivedIds.set(id, digest);
    this.releasedIds.delete(id);
    this.append(Kind.Received, id, digest, 0);
  }

  released(id: number, digest: number, at: number): void {
    this.receivedIds.delete(id);
    this.releasedIds.set(id, { digest, at });
    this.append(Kind.Released, id, digest, at);
  }

  clear(): void {
    if (this.receivedIds.size === 0 && this.releasedIds.size === 0) return;
    this.receivedIds.clear();
    this.releasedIds.clear();
    this.rewrite();
  }

  sync(): void {
    if (!this.dirty || this.fd === undefined) return;
    if (this.fsync === 'always') {
      fsyncSync(this.fd);
      this.dirty = false;
    } else if (this.fsync === 'interval') {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        if (this.dirty && this.fd !== undefined) fsyncSync(this.fd);
        this.dirty = false;
      }, this.options.fsyncIntervalMs ?? 1000).unref();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd === undefined) return;
    if (this.dirty && this.fsync !== 'never') fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** One record into the maps; false when its CRC or fields are wrong. */
  private apply(record: Buffer): boolean {
    if (crc32(record.subarray(0, BODY)) !== record.readUInt32BE(BODY)) return false;
    const kind = record.readUInt8(0);
    const id = record.readUInt16BE(1);
    const digest = record.readUIntBE(3, 6);
    const at = record.readDoubleBE(9);
    if (id === 0) return false;
    if (kind === Kind.Received) {
      this.receivedIds.set(id, digest);
      this.releasedIds.delete(id);
    } else if (kind === Kind.Released) {
      this.receivedIds.delete(id);
      this.releasedIds.set(id, { digest, at });
    } else {
      return false;
    }
    return true;
  }

  private append(kind: Kind, id: number, digest: number, at: number): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, record(kind, id, digest, at));
    this.dirty = true;
    if (++this.appended >= Math.max(REWRITE_AFTER, 2 * (this.receivedIds.size + this.releasedIds.size))) this.rewrite();
  }

  /** The live entries into a new file that replaces the old one at once. */
  private rewrite(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const keepMs = this.options.keepMs;
    const oldest = keepMs === undefined ? -Infinity : this.now() - keepMs;
    for (const [id, r] of this.releasedIds) if (r.at < oldest) this.releasedIds.delete(id);
    const records = [
      ...[...this.receivedIds].map(([id, digest]) => record(Kind.Received, id, digest < 0 ? 0 : digest, 0)),
      ...[...this.releasedIds].map(([id, r]) => record(Kind.Released, id, r.digest < 0 ? 0 : r.digest, r.at)),
    ];
    const temp = `${this.options.path}.tmp`;
    try {
      const fd = openSync(temp, 'w');
      if (records.length > 0) writeSync(fd, Buffer.concat(records));
      if (this.fsync !== 'never') fsyncSync(fd);
      closeSync(fd);
      renameSync(temp, this.options.path);
      this.fd = openSync(this.options.path, 'a');
    } catch (err) {
      throw openError(this.options.path, err);
    }
    this.appended = 0;
    this.dirty = false;
  }
}

function record(kind: Kind, id: number, digest: number, at: number): Buffer {
  const b = Buffer.alloc(RECORD);
  b.writeUInt8(kind, 0);
  b.writeUInt16BE(id, 1);
  b.writeUIntBE(digest, 3, 6);
  b.writeDoubleBE(at, 9);
  b.writeUInt32BE(crc32(b.subarray(0, BODY)), BODY);
  return b;
}

function openError(path: string, err: unknown): AtbridgeError {
  return new AtbridgeError('queue-open-failed', `cannot keep the QoS 2 state in ${path}: ${errorMessage(err)}`, { cause: err });
}
