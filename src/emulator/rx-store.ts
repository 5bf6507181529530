/** Not a module fact: past this the emulator stops reading the socket (TCP flow control). */
export const RX_BUFFER_LIMIT = 64 * 1024;

interface Flow {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Buffered receive: the bytes the peer sent, held until the host reads them. One notice per
 * filling (none again until the host has drained it); the socket is paused past RX_BUFFER_LIMIT.
 */
export class RxStore {
  private chunks: Buffer[] = [];
  private count = 0;
  private noticeSent = false;

  constructor(private readonly socket: () => Flow | undefined) {}

  get bytes(): number {
    return this.count;
  }

  /** Keeps the bytes; true when the host is to be told (the first since the store was drained). */
  push(data: Buffer): boolean {
    this.chunks.push(data);
    this.count += data.length;
    if (this.count >= RX_BUFFER_LIMIT) this.socket()?.pause();
    if (this.noticeSent) return false;
    this.noticeSent = true;
    return true;
  }

  /** Takes up to `max` bytes off the front; `rest` is what stays. */
  take(max: number): { take: Buffer; rest: number } {
    const all = Buffer.concat(this.chunks);
    const take = all.subarray(0, Math.min(max, all.length));
    const rest = all.subarray(take.length);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.count = rest.length;
    if (rest.length === 0) this.noticeSent = false;
    if (this.count < RX_BUFFER_LIMIT) this.socket()?.resume();
    return { take, rest: rest.length };
  }

  drop(): void {
    this.chunks = [];
    this.count = 0;
    this.noticeSent = false;
  }
}
