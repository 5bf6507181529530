import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { TraceEvent, TraceHeader, TraceRecord } from './events.js';
import { fromRecord, isTraceHeader, TRACE_VERSION } from './events.js';
import { fastEvent } from './reader-fast.js';

/** A trace file that is not a valid atbridge trace (the message names the line). */
export class TraceFormatError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

const LF = 0x0a;

/** The lines of one chunk: line i is `buf` from `starts[i]` to `ends[i]` (LF excluded). */
export interface LineRanges {
  buf: Buffer;
  starts: number[];
  ends: number[];
}

/**
 * Splits a byte stream into lines, a chunk's worth at a time, in constant memory: each chunk's
 * lines as byte ranges, so a reader can parse the bytes and make a string only of the lines that
 * need one. Cut at the LF byte, which never splits a UTF-8 character; a line cut by a chunk
 * boundary comes out joined, in a buffer of its own; a last line without LF still comes out.
 */
export async function* readLineRanges(stream: Readable): AsyncGenerator<LineRanges> {
  let carry: Buffer | undefined;
  for await (const piece of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    let start = 0;
    let lf = chunk.indexOf(LF);
    if (carry !== undefined) {
      if (lf < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, lf)]);
      carry = undefined;
      yield { buf: joined, starts: [0], ends: [joined.length] };
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    const starts: number[] = [];
    const ends: number[] = [];
    while (lf >= 0) {
      starts.push(start);
      ends.push(lf);
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    if (starts.length > 0) yield { buf: chunk, starts, ends };
  }
  if (carry !== undefined && carry.length > 0) yield { buf: carry, starts: [0], ends: [carry.length] };
}

/** A trace read into memory: its header and events. */
export interface TraceReadResult {
  header: TraceHeader | undefined;
  events: AsyncGenerator<TraceEvent>;
  /**
   * The same events a chunk of the file at a time: one await per chunk instead of one per event,
   * for the hot loops of decode. Read either this or `events`, not both.
   */
  batches: AsyncGenerator<TraceEvent[]>;
}

/** Streams events from a JSONL trace (path or stream). The header, if any, is read first. */
export async function readTrace(source: string | Readable): Promise<TraceReadResult> {
  const stream = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 18 }) : source;
  const lineBatches = readLineRanges(stream);
  let batch: LineRanges = { buf: Buffer.alloc(0), starts: [], ends: [] };
  let at = 0;
  let lineNo = 0;
  let first: string | undefined;
  do {
    while (at >= batch.starts.length) {
      const r = await lineBatches.next();
      if (r.done) break;
      batch = r.value;
      at = 0;
    }
    first = at < batch.starts.length ? batch.buf.toString('utf8', batch.starts[at], batch.ends[at++]) : undefined;
    lineNo++;
  } while (first !== undefined && first.trim() === '');
  let header: TraceHeader | undefined;
  let pending: TraceRecord | undefined;
  if (first !== undefined) {
    const parsed = parseLine(first, lineNo);
    if (isTraceHeader(parsed)) {
      if (parsed.version !== TRACE_VERSION) {
        throw new TraceFormatError(`trace format version ${JSON.stringify(parsed.version)} is not one this atbridge reads (${TRACE_VERSION})`, lineNo);
      }
      header = parsed;
    }
    else pending = parsed as TraceRecord;
  }
  const firstLine = lineNo;
  const sessions = new SessionClock(header);
  async function* batches(): AsyncGenerator<TraceEvent[]> {
    try {
      let out: TraceEvent[] = [];
      if (pending) out.push(withLine(fromRecordAt(pending, firstLine), firstLine));
      for (;;) {
        // The lines of one chunk are read in a plain loop: one await per chunk, not per line.
        const { buf, starts, ends } = batch;
        while (at < starts.length) {
          const start = starts[at]!;
          const end = ends[at++]!;
          lineNo++;
          if (start === end) continue;
          // The common line shape straight from its bytes; any other line as a string, JSON.parse'd.
          let event = buf[start] === 0x7b ? fastEvent(buf, start, end) : undefined;
          if (event !== undefined) {
            if (event.line === undefined) event.line = lineNo;
            if (sessions.offset !== 0) event.t! += sessions.offset;
            out.push(event);
            if (out.length >= BATCH) {
              yield out;
              out = [];
            }
            continue;
          }
          const line = buf.toString('utf8', start, end);
          if (line.charCodeAt(0) !== 0x7b && line.trim() === '') continue;
          try {
            event = eventOf(line, lineNo, sessions);
          } catch (err) {
            // The events before a bad line still come out, as they did line by line.
            if (out.length > 0) yield out;
            throw err;
          }
          if (event) out.push(event);
        }
        if (out.length > 0) {
          yield out;
          out = [];
        }
        const r = await lineBatches.next();
        if (r.done) return;
        batch = r.value;
        at = 0;
      }
    } finally {
      await lineBatches.return(undefined);
    }
  }
  const all = batches();
  return { header, events: flatten(all), batches: all };
}

/** The event a line holds (a header line: the note of a new session, or nothing). */
function eventOf(line: string, lineNo: number, sessions: SessionClock): TraceEvent | undefined {
  const parsed = parseLine(line, lineNo);
  if (isTraceHeader(parsed)) {
    // A later session appended to the same file, or the next segment of a flight-recorder set.
    const note = sessions.next(parsed);
    return note ? withLine(note, lineNo) : undefined;
  }
  const event = withLine(fromRecordAt(parsed as TraceRecord, lineNo), lineNo);
  if (sessions.offset !== 0 && event.t !== undefined) event.t += sessions.offset;
  return event;
}

/**
 * Events per batch: enough that the await per batch costs nothing, few enough that a batch and
 * what is made of it die young (a whole 256 KiB chunk's worth would outlive the scavenger and
 * grow the old heap and the RSS).
 */
const BATCH = 64;

/** The events of a stream of batches one by one. */
export async function* flatten<T>(batches: AsyncGenerator<T[]>): AsyncGenerator<T> {
  try {
    for await (const batch of batches) yield* batch;
  } finally {
    await batches.return(undefined);
  }
}

/**
 * Keeps `t` on one clock across sessions: each header's `start` is a wall-clock time, so a later
 * session's events are shifted by how long after the first header it began. A header with the same
 * start as the one before is the next segment of the same session (flight recorder): no note.
 */
function sessionOf(header: TraceHeader): string {
  return header.session ?? header.start;
}

class SessionClock {
  offset = 0;
  private readonly origin: number | undefined;
  private last: string | undefined;

  constructor(first: TraceHeader | undefined) {
    const start = first ? Date.parse(first.start) : NaN;
    this.origin = Number.isFinite(start) ? start : undefined;
    this.last = first ? sessionOf(first) : undefined;
  }

  next(header: TraceHeader): TraceEvent | undefined {
    if (sessionOf(header) === this.last) return undefined;
    this.last = sessionOf(header);
    const start = Date.parse(header.start);
    if (this.origin !== undefined && Number.isFinite(start)) this.offset = start - this.origin;
    const fields: Record<string, unknown> = { session: 'new', start: header.start, tool: header.tool };
    if (header.profile) fields.profile = header.profile;
    if (header.baud) fields.baud = header.baud;
    if (header.device) fields.device = header.device;
    return { t: this.offset, dir: 'note', data: Buffer.from(`new session started ${header.start}`, 'utf8'), fields };
  }
}

function withLine(event: TraceEvent, line: number): TraceEvent {
  if (event.line === undefined) event.line = line;
  return event;
}

function parseLine(line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new TraceFormatError('not a JSON object', lineNo);
  }
}

function fromRecordAt(record: TraceRecord, lineNo: number): TraceEvent {
  try {
    return fromRecord(record);
  } catch (err) {
    throw new TraceFormatError((err as Error).message, lineNo);
  }
}
