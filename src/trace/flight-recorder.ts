import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { constants, createGzip, type Gzip } from 'node:zlib';
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

/**
 * The flight recorder's sink: trace lines into gzip-compressed segments of a directory, a new
 * segment past `segmentBytes` (each starting with the session's header, so any segment reads
 * alone), the oldest deleted past `totalBytes`. Writing never waits: a slow disk costs dropped
 * lines (counted in a note when it catches up), not a stalled serial path.
 */
/** The recorders of this process, so a snapshot can flush them first. */
const live = new Set<RollingTraceSink>();

/** Flushes every flight recorder of this process to disk (before a snapshot). */
export async function flushFlightRecorders(): Promise<void> {
  await Promise.all([...live].map((sink) => sink.flush()));
}

export class RollingTraceSink implements TraceSink {
  private readonly segmentBytes: number;
  private readonly totalBytes: number;
  private readonly maxBacklog: number;
  private header: string | undefined;
  private gzip: Gzip | undefined;
  private file: WriteStream | undefined;
  private currentName = '';
  private written = 0;
  private seq: number;
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
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 1000);
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
    if (this.backlog() > this.maxBacklog) {
      this.dropped++;
      return false;
    }
    if (this.dropped > 0) {
      const note = { dir: 'note', data: `flight recorder: ${this.dropped} lines dropped (the disk was slower than the serial line)`, fields: { dropped: this.dropped } };
      this.dropped = 0;
      this.gzip!.write(`${JSON.stringify(note)}\n`);
    }
    this.gzip!.write(text);
    if (this.written >= this.segmentBytes) this.rotate();
    return true;
  }

  /** Makes everything written so far readable on disk (the snapshot calls this first). */
  flush(): Promise<void> {
    const gzip = this.gzip;
    const file = this.file;
    if (!gzip || !file || this.failed) return Promise.resolve();
    // The compressor's output reaches the file through the pipe; an empty write after it resolves
    // once everything before it is on disk.
    return new Promise((resolve) =>
      gzip.flush(constants.Z_SYNC_FLUSH, () => setImmediate(() => (file.writable ? file.write(Buffer.alloc(0), () => resolve()) : resolve()))),
    );
  }

  end(done: () => void): void {
    clearInterval(this.timer);
    live.delete(this);
    const file = this.file;
    const gzip = this.gzip;
    this.gzip = undefined;
    this.file = undefined;
    if (!gzip || !file || this.failed) {
      done();
      return;
    }
    file.once('close', () => done());
    file.once('error', () => done());
    gzip.end();
  }

  private backlog(): number {
    return (this.gzip?.writableLength ?? 0) + (this.file?.writableLength ?? 0);
  }

  private open(): void {
    this.currentName = segmentName(this.seq++, new Date());
    const file = createWriteStream(join(this.dir, this.currentName));
    const gzip = createGzip({ level: 6 });
    // A full card or a removed directory stops the recorder, never the bridge.
    const fail = () => {
      this.failed = true;
      clearInterval(this.timer);
    };
    file.on('error', fail);
    gzip.on('error', fail);
    this.written = 0;
    gzip.on('data', (chunk: Buffer) => (this.written += chunk.length));
    gzip.pipe(file);
    gzip.write(this.header!);
    this.gzip = gzip;
    this.file = file;
    this.segments++;
    this.enforceCap();
  }

  private rotate(): void {
    this.gzip?.end();
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
