import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { TraceEvent, TraceHeader, TraceRecord } from './events.js';
import { fromRecord, isTraceHeader, TRACE_VERSION } from './events.js';

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
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of stream) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      yield text.slice(start, nl);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.end();
  if (carry.length > 0) yield carry;
}

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
  async function* events(): AsyncGenerator<TraceEvent> {
    if (pending) yield withLine(fromRecordAt(pending, firstLine), firstLine);
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      yield withLine(fromRecordAt(parseLine(line, lineNo) as TraceRecord, lineNo), lineNo);
    }
  }
  return { header, events: events() };
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
