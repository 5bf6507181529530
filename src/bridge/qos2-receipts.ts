import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';

const COMPACT_AFTER_RECORDS = 10_000;

/**
 * Packet ids of QoS 2 messages a broker sent us that are stored and not yet released (PUBREL), kept
 * in a file. The MQTT client remembers them only in memory; after a kill -9 the broker resends every
 * PUBLISH whose PUBREC it never got (on a modem, PUBRECs can sit in the send queue), and without
 * this list each would be forwarded a second time. One line per change: `+id` or `-id`.
 */
export class Qos2Receipts {
  private readonly ids = new Set<number>();
  private fd: number;
  private records = 0;

  constructor(private readonly path: string) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // first run
    }
    for (const line of text.split('\n')) {
      const id = Number(line.slice(1));
      if (!Number.isInteger(id) || id <= 0) continue; // a torn last line
      if (line.startsWith('+')) this.ids.add(id);
      else if (line.startsWith('-')) this.ids.delete(id);
    }
    this.fd = this.compact();
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  add(id: number): void {
    this.ids.add(id);
    this.write(`+${id}\n`);
  }

  release(id: number): void {
    if (this.ids.delete(id)) this.write(`-${id}\n`);
  }

  /** The broker lost our session: its old ids mean nothing now. */
  clear(): void {
    if (this.ids.size === 0) return;
    this.ids.clear();
    closeSync(this.fd);
    this.fd = this.compact();
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(record: string): void {
    // No fsync here: it would widen the gap before the queue append that follows. A receipt lost
    // to power failure can only let a resent message through twice, never lose one.
    writeSync(this.fd, record);
    if (++this.records >= COMPACT_AFTER_RECORDS) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
  }

  /** Rewrites the file with the live ids only (via rename, so a crash leaves the old or the new). */
  private compact(): number {
    const temp = `${this.path}.tmp`;
    writeFileSync(temp, [...this.ids].map((id) => `+${id}\n`).join(''));
    renameSync(temp, this.path);
    this.records = 0;
    return openSync(this.path, 'a');
  }
}
