import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import type { TraceEvent, TraceHeader, TraceRecord } from './events.js';
import { fromRecord, isTraceHeader, TRACE_VERSION } from './events.js';

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

/**
 * Splits a byte stream into lines without holding more than one partial line in memory,
 * so files of any size are read in constant memory.
 */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  // JSONL is text, so a line parser is right here (unlike the AT stream, which is framed as bytes).
  // Splitting at the LF byte never cuts a UTF-8 character; a last line without LF still comes out.
  // Its pushes are read one per 'data' event (a byte-mode stream would merge them), with the parser
  // paused while a bounded backlog waits, so memory stays constant.
  const parser = new ReadlineParser({ delimiter: '\n', encoding: 'utf8' });
  const backlog: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  parser.on('data', (line: string) => {
    backlog.push(line);
    if (backlog.length >= 1024) parser.pause();
    poke();
  });
  parser.on('end', () => {
    ended = true;
    poke();
  });
  const fail = (err: Error) => {
    failure = err;
    poke();
  };
  parser.on('error', fail);
  stream.on('error', fail);
  stream.pipe(parser);
  let next = 0;
  for (;;) {
    if (next < backlog.length) {
      yield backlog[next++]!;
      continue;
    }
    backlog.length = 0;
    next = 0;
    if (failure) throw failure;
    if (ended) return;
    if (parser.isPaused()) parser.resume();
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** A trace read into memory: its header and events. */
export interface TraceReadResult {
  header: TraceHeader | undefined;
  events: AsyncGenerator<TraceEvent>;
}

/** Streams events from a JSONL trace (path or stream). The header, if any, is read first. */
export async function readTrace(source: string | Readable): Promise<TraceReadResult> {
  const stream = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  const lines = readLines(stream);
  let lineNo = 0;
  let first: IteratorResult<string>;
  do {
    first = await lines.next();
    lineNo++;
  } while (!first.done && first.value.trim() === '');
  let header: TraceHeader | undefined;
  let pending: TraceRecord | undefined;
  if (!first.done) {
    const parsed = parseLine(first.value, lineNo);
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
  async function* events(): AsyncGenerator<TraceEvent> {
    if (pending) yield withLine(fromRecordAt(pending, firstLine), firstLine);
    for await (const line of lines) {
      lineNo++;
      if (line.length === 0 || (line.charCodeAt(0) !== 0x7b && line.trim() === '')) continue;
      const parsed = parseLine(line, lineNo);
      if (isTraceHeader(parsed)) {
        // A later session appended to the same file, or the next segment of a flight-recorder set.
        const note = sessions.next(parsed);
        if (note) yield withLine(note, lineNo);
        continue;
      }
      const event = withLine(fromRecordAt(parsed as TraceRecord, lineNo), lineNo);
      if (sessions.offset !== 0 && event.t !== undefined) event.t += sessions.offset;
      yield event;
    }
  }
  return { header, events: events() };
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
