import { once } from 'node:events';
import type { DecodedCapture } from './decode-capture.js';
import { describeGuess } from './family.js';
import { entryJson, formatEntry } from './format-entry.js';
import { ProgressBar } from './progress.js';

/** Where decode writes: process.stdout, or any writable stream (tests collect it). */
export type TimelineSink = NodeJS.WritableStream & { isTTY?: boolean };

export interface WriteTimelineOptions {
  /** The file name shown in the first line. */
  file: string;
  /** One JSON object per line instead of text for a person. */
  json?: boolean;
  /** The profile was named on the command line (not guessed). */
  named?: boolean;
  /** Draw a progress bar on stderr (a terminal and a large file). */
  progress?: boolean;
}

/** How much output is gathered before one write: large writes, few syscalls, bounded memory. */
const CHUNK = 1 << 20;

/** Writes a decoded capture's timeline: a first line naming file, format and profile, then one entry per line. */
export async function writeTimeline(decoded: DecodedCapture, out: TimelineSink, options: WriteTimelineOptions): Promise<void> {
  const { capture, profile } = decoded;
  const { file, named } = options;
  const bar = options.progress && ProgressBar.wanted(capture.size) ? new ProgressBar(capture.size!) : undefined;
  const buffer = new OutputBuffer(out);
  if (options.json) buffer.add(JSON.stringify({ type: 'decode', file, format: capture.format, profile: profile.id, ...(decoded.family ? { family: decoded.family.id, familyWhy: decoded.family.why } : {}) }));
  else buffer.add(`# ${file}: ${capture.format}, profile ${profile.id}${named ? '' : ' (guessed)'}${named || capture.format === 'jsonl' ? '' : `\n# ${describeGuess(decoded.family, profile.id)}`}`);
  const format = options.json ? entryJson : formatEntry;
  for await (const batch of decoded.batches) {
    for (const entry of batch) buffer.add(format(entry));
    if (buffer.full) {
      await buffer.flush();
      bar?.update(capture.bytesRead());
    }
  }
  await buffer.flush();
  bar?.done();
}

/**
 * Lines encoded straight into a large Buffer and written a chunk at a time: no joined string to
 * flatten and encode again, one write per CHUNK, and the buffers reused once written. Waits when
 * the pipe is full, so a slow reader never makes memory grow.
 */
class OutputBuffer {
  private buf: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  /** Filled parts waiting for the next flush; `reuse` when the buffer goes back to `free`. */
  private pending: { data: Buffer; reuse?: Buffer }[] = [];
  /** Buffers the stream is done with, to fill again (no garbage 1 MB at a time). */
  private readonly free: Buffer[] = [];

  constructor(private readonly out: TimelineSink) {}

  get full(): boolean {
    return this.used >= CHUNK - (CHUNK >> 3);
  }

  /** One line (the LF is added). */
  add(line: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (this.used + line.length * 3 + 1 > this.buf.length) {
      this.push();
      if (line.length * 3 + 1 > this.buf.length) {
        this.pending.push({ data: Buffer.from(`${line}\n`, 'utf8') });
        return;
      }
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.buf[this.used++] = 0x0a;
  }

  /** Moves the filled part aside (the stream may keep it until written) and starts another buffer. */
  private push(): void {
    if (this.used === 0) return;
    this.pending.push({ data: this.buf.subarray(0, this.used), reuse: this.buf });
    this.buf = this.free.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    this.used = 0;
  }

  async flush(): Promise<void> {
    this.push();
    const chunks = this.pending;
    this.pending = [];
    for (const { data, reuse } of chunks) {
      const more = this.out.write(data, reuse ? () => this.free.push(reuse) : undefined);
      if (!more) await once(this.out, 'drain');
    }
  }
}
