/**
 * Delivers bytes no faster than a serial line would: each byte takes bitsPerByte/baud seconds.
 * Like a UART, the line starts on a byte as soon as it is queued and the line is free; a timer
 * that fires late delivers everything the line would have carried by then, so event-loop jitter
 * never slows the emulated line and throughput measured through it is honest. With pacing off,
 * bytes pass on the next tick.
 */
export interface PacerOptions {
  baud: number;
  bitsPerByte?: number;
  enabled: boolean;
  deliver: (chunk: Buffer) => void;
}

/** Longest slice delivered at once: about 4 ms of line time, so receivers see a steady stream. */
const SLICE_MS = 4;

export class Pacer {
  private baud: number;
  private readonly bitsPerByte: number;
  private enabled: boolean;
  private readonly deliver: (chunk: Buffer) => void;
  private readonly queue: { chunk: Buffer; queuedAt: number; done: () => void }[] = [];
  private wireFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;
  /** Bytes that have crossed, for wire-efficiency figures. */
  bytes = 0;

  constructor(options: PacerOptions) {
    this.baud = options.baud;
    this.bitsPerByte = options.bitsPerByte ?? 10;
    this.enabled = options.enabled;
    this.deliver = options.deliver;
  }

  setBaud(baud: number): void {
    this.baud = baud;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Milliseconds the line needs for `n` bytes at the current rate. */
  lineTimeMs(n: number): number {
    return (n * this.bitsPerByte * 1000) / this.baud;
  }

  /** Queue bytes; resolves once the last of them has been delivered (like a UART drain). */
  push(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ chunk, queuedAt: performance.now(), done: resolve });
      if (!this.busy) this.pump();
    });
  }

  /** Drop everything not yet delivered (a reboot empties the UART FIFO). */
  clear(): void {
    for (const item of this.queue.splice(0)) item.done();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.busy = false;
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private pump(): void {
    if (this.closed) return;
    const head = this.queue[0];
    if (!head) {
      this.busy = false;
      return;
    }
    this.busy = true;
    if (!this.enabled) {
      this.queue.shift();
      setImmediate(() => {
        if (this.closed) return head.done();
        this.bytes += head.chunk.length;
        this.deliver(head.chunk);
        head.done();
        this.pump();
      });
      return;
    }
    const bytesPerMs = this.baud / this.bitsPerByte / 1000;
    const now = performance.now();
    const start = Math.max(head.queuedAt, this.wireFreeAt);
    // Behind schedule (a late timer): everything the line would have carried by now goes at once.
    const due = Math.floor((now - start) * bytesPerMs);
    const sliceBytes = Math.max(1, Math.floor(bytesPerMs * SLICE_MS), due);
    const slice = head.chunk.subarray(0, sliceBytes);
    const rest = head.chunk.subarray(slice.length);
    this.wireFreeAt = start + this.lineTimeMs(slice.length);
    this.schedule(() => {
      if (this.closed) return;
      this.bytes += slice.length;
      this.deliver(slice);
      if (rest.length > 0) head.chunk = rest;
      else {
        this.queue.shift();
        head.done();
      }
      this.pump();
    });
  }

  /** Runs `deliver` once the line time is over; a timer may fire a little early, so check and wait again. */
  private schedule(deliver: () => void): void {
    const wait = this.wireFreeAt - performance.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed && performance.now() < this.wireFreeAt) return this.schedule(deliver);
      deliver();
    }, Math.max(0, wait));
  }
}

/**
 * Line noise: each byte has `rate` chance of one flipped bit. `random` is the caller's seeded
 * generator, so a corrupted run repeats. Returns the chunk itself when nothing flipped.
 */
export function flipBits(chunk: Buffer, rate: number, random: () => number): Buffer {
  if (rate <= 0) return chunk;
  let out: Buffer | undefined;
  for (let i = 0; i < chunk.length; i++) {
    if (random() < rate) {
      out ??= Buffer.from(chunk);
      out[i] = (out[i] ?? 0) ^ (1 << Math.floor(random() * 8));
    }
  }
  return out ?? chunk;
}

/**
 * What a receiver sampling at the wrong rate makes of a chunk: a different number of bytes,
 * none of them the ones sent. Deterministic for a given seed so tests repeat.
 */
export function garble(chunk: Buffer, sentBaud: number, readBaud: number, seed: number): Buffer {
  const count = Math.max(chunk.length > 0 ? 1 : 0, Math.round((chunk.length * readBaud) / sentBaud));
  const out = Buffer.alloc(count);
  let state = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state ^ (chunk[i % chunk.length] ?? 0), 0x01000193) + i) >>> 0;
    // Misread frames mostly come out with high bits set or as framing-error nulls.
    const byte = state & 0xff;
    out[i] = byte < 0x20 ? 0x00 : byte | 0x80;
  }
  return out;
}
