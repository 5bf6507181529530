import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { join } from 'node:path';
import { AtbridgeError, ExitCode } from '../errors.js';
import { listSegments, segmentName } from './segments.js';
import { TraceWriter, type TraceSink, type TraceWriterOptions } from './writer.js';

/**
 * Defaults sized for a Raspberry Pi's SD card: 4 MB compressed segments (about 20–40 MB of
 * trace, hours of a busy gateway's traffic each), at most 64 MB in all (16 segments).
 */
export const FLIGHT_RECORDER_DEFAULTS = {
  segmentBytes: 4 * 1024 * 1024,
  totalBytes: 64 * 1024 * 1024,
} as const;

export interface FlightRecorderOptions {
  /** Compressed bytes after which the next segment begins. */
  segmentBytes?: number;
  /** The oldest segments are deleted once the directory holds more than this. */
  totalBytes?: number;
  /** Lines waiting for the disk beyond this are dropped (and counted in a note), never waited for. */
  maxBacklogBytes?: number;
  /** How often the compressor is flushed so a crash or a snapshot loses at most this much. */
  flushMs?: number;
}

/** The recorders of this process, so a snapshot can flush them first. */
const live = new Set<RollingTraceSink>();
const gzipAsync = promisify(gzip);

/** Flushes every flight recorder of this process to disk (before a snapshot). */
export async function flushFlightRecorders(): Promise<void> {
  await Promise.all([...live].map((sink) => sink.flush()));
}

/**
 * The flight recorder's sink: trace lines into gzip-compressed segments of a directory, a new
 * segment past `segmentBytes` (each starting with the session's header, so any segment reads
 * alone), the oldest deleted past `totalBytes`. Lines are gathered into blocks, each compressed
 * off the main thread into a gzip member of its own (a segment is a series of members, which any
 * gunzip reads as one stream), so the size on disk is known block by block. Writing never waits:
 * a slow disk costs dropped lines (counted in a note when it catches up), not a stalled serial path.
 */
export class RollingTraceSink implements TraceSink {
  private readonly segmentBytes: number;
  private readonly totalBytes: number;
  private readonly maxBacklog: number;
  private readonly blockBytes: number;
  private header: string | undefined;
  private file: WriteStream | undefined;
  private currentName = '';
  private written = 0;
  private seq: number;
  private lines: string[] = [];
  private buffered = 0;
  /** Raw bytes handed to the compressor and not yet on their way to disk. */
  private compressing = 0;
  private chain: Promise<void> = Promise.resolve();
  private needHeader = true;
  private dropped = 0;
  private failed = false;
  private readonly timer: NodeJS.Timeout;
  segments = 0;

  constructor(
    readonly dir: string,
    options: FlightRecorderOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? FLIGHT_RECORDER_DEFAULTS.segmentBytes;
    this.totalBytes = options.totalBytes ?? FLIGHT_RECORDER_DEFAULTS.totalBytes;
    this.maxBacklog = options.maxBacklogBytes ?? 8 * 1024 * 1024;
    this.blockBytes = Math.max(256, Math.min(64 * 1024, Math.floor(this.segmentBytes / 4)));
    if (!(this.segmentBytes > 0) || !(this.totalBytes >= this.segmentBytes)) {
      throw new AtbridgeError('bad-option', 'the flight recorder needs a segment size above 0 and a total cap at least one segment', { exitCode: ExitCode.usage });
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new AtbridgeError('bad-option', `cannot use ${dir} for --trace-dir: ${(err as Error).message}`, { exitCode: ExitCode.usage });
    }
    const existing = listSegments(dir);
    this.seq = (existing.at(-1)?.seq ?? 0) + 1;
    this.timer = setInterval(() => this.compressBlock(), options.flushMs ?? 1000);
    this.timer.unref();
    live.add(this);
  }

  write(text: string): boolean {
    if (this.failed) return false;
    if (this.header === undefined) {
      // The first line is the session's header: it opens every segment.
      this.header = text;
      this.open();
      return true;
    }
    if (this.buffered + this.compressing + (this.file?.writableLength ?? 0) > this.maxBacklog) {
      this.dropped++;
      return false;
    }
    if (this.dropped > 0) {
      const note = { dir: 'note', data: `flight recorder: ${this.dropped} lines dropped (the disk was slower than the serial line)`, fields: { dropped: this.dropped } };
      this.dropped = 0;
      this.push(`${JSON.stringify(note)}\n`);
    }
    this.push(text);
    return true;
  }

  /** Makes everything written so far readable on disk (a snapshot calls this first). */
  async flush(): Promise<void> {
    this.compressBlock();
    await this.chain;
    const file = this.file;
    if (!file || this.failed || !file.writable) return;
    // An empty write resolves once everything before it is on disk.
    await new Promise<void>((resolve) => file.write(Buffer.alloc(0), () => resolve()));
  }

  end(done: () => void): void {
    clearInterval(this.timer);
    live.delete(this);
    this.compressBlock();
    void this.chain.then(() => {
      const file = this.file;
      this.file = undefined;
      if (!file || this.failed) return done();
      file.once('close', () => done());
      file.once('error', () => done());
      file.end();
    });
  }

  private push(text: string): void {
    this.lines.push(text);
    this.buffered += text.length;
    if (this.buffered >= this.blockBytes) this.compressBlock();
  }

  /** Hands the gathered lines to the compressor; blocks reach the disk in order. */
  private compressBlock(): void {
    if (this.lines.length === 0 || this.failed) return;
    const text = this.lines.join('');
    const raw = text.length;
    this.lines = [];
    this.buffered = 0;
    this.compressing += raw;
    this.chain = this.chain.then(async () => {
      const withHeader = this.needHeader ? this.header! + text : text;
      this.needHeader = false;
      const member = await gzipAsync(Buffer.from(withHeader, 'utf8'), { level: 6 }).catch(() => undefined);
      this.compressing -= raw;
      if (!member || this.failed || !this.file) return;
      this.file.write(member);
      this.written += member.length;
      if (this.written >= this.segmentBytes) this.rotate();
    });
  }

  private open(): void {
    this.currentName = segmentName(this.seq++, new Date());
    const file = createWriteStream(join(this.dir, this.currentName));
    // A full card or a removed directory stops the recorder, never the bridge.
    file.on('error', () => {
      this.failed = true;
      clearInterval(this.timer);
    });
    this.file = file;
    this.written = 0;
    this.needHeader = true;
    this.segments++;
    this.enforceCap();
  }

  private rotate(): void {
    this.file?.end();
    this.open();
  }

  /** Deletes the oldest segments (never the one being written) until the set fits the cap. */
  private enforceCap(): void {
    const segments = listSegments(this.dir);
    // The segment just opened counts as a full one, so the cap holds when it fills.
    let total = segments.reduce((sum, s) => sum + (s.name === this.currentName ? this.segmentBytes : s.bytes), 0);
    for (const segment of segments) {
      if (total <= this.totalBytes) break;
      if (segment.name === this.currentName) continue;
      rmSync(segment.path, { force: true });
      total -= segment.bytes;
    }
  }
}

/** A TraceWriter whose lines go to a flight-recorder directory. */
export function flightRecorder(dir: string, options: TraceWriterOptions & FlightRecorderOptions = {}): { writer: TraceWriter; sink: RollingTraceSink } {
  const sink = new RollingTraceSink(dir, options);
  return { writer: new TraceWriter(sink, { ...options, ownsSink: true }), sink };
}
