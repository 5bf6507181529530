/**
 * The one event format for everything that reads or writes serial traffic (DESIGN.md):
 * JSON Lines, a header line, then `{t, dir, data}` events. `t` is milliseconds since the start.
 * Text that is plain printable ASCII (plus CR, LF, TAB) is stored as-is (JSON escapes it);
 * anything else is base64 with `enc: "base64"`.
 */
export type Direction = 'tx' | 'rx' | 'note';

/** The first line of an atbridge trace: format version, tool, start time, device, profile. */
export interface TraceHeader {
  type: 'atbridge-trace';
  version: 1;
  tool: string;
  start: string;
  profile?: string;
  baud?: number;
  device?: string;
  /** Where an imported capture came from (importer name and file). */
  source?: string;
  redacted?: boolean;
  /**
   * Which session wrote the lines after this header: a trace appended to by a reconnecting bridge,
   * or a flight-recorder set, holds several headers; one session's segments repeat its header.
   */
  session?: string;
}

/** One record of a trace: bytes sent (tx) or received (rx), or a note, with its time. */
export interface TraceEvent {
  /** Milliseconds since the start of the capture (undefined when the source has no times). */
  t: number | undefined;
  dir: Direction;
  /** Bytes for tx/rx; for notes, the UTF-8 text of the note. */
  data: Buffer;
  /** Free-form structured fields of a note (state, event, finding...). */
  fields?: Record<string, unknown>;
  /** Original line number in an imported file, kept as evidence for findings. */
  line?: number;
}

export interface TraceRecord {
  t?: number;
  dir: Direction;
  data: string;
  enc?: 'base64';
  fields?: Record<string, unknown>;
  line?: number;
}

export const TRACE_VERSION = 1;

/** Printable ASCII plus CR, LF, TAB: stored as text. */
export function isPlainText(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if ((b < 0x20 || b > 0x7e) && b !== 0x0d && b !== 0x0a && b !== 0x09) return false;
  }
  return true;
}

export function toRecord(event: TraceEvent): TraceRecord {
  const record: TraceRecord = { dir: event.dir, data: '' };
  if (event.t !== undefined) record.t = Math.round(event.t * 1000) / 1000;
  if (event.dir === 'note') record.data = event.data.toString('utf8');
  else if (isPlainText(event.data)) record.data = event.data.toString('latin1');
  else {
    record.data = event.data.toString('base64');
    record.enc = 'base64';
  }
  if (event.fields) record.fields = event.fields;
  if (event.line !== undefined) record.line = event.line;
  return { t: record.t, ...record };
}

export function fromRecord(record: TraceRecord): TraceEvent {
  if (record.dir !== 'tx' && record.dir !== 'rx' && record.dir !== 'note') {
    throw new Error(`unknown direction ${JSON.stringify((record as { dir?: unknown }).dir)}`);
  }
  if (typeof record.data !== 'string') throw new Error('event without a data string');
  if (record.enc !== undefined && record.enc !== 'base64') throw new Error(`unknown data encoding ${JSON.stringify(record.enc)}`);
  if (record.enc === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(record.data)) throw new Error('data marked base64 is not base64');
  const data =
    record.enc === 'base64'
      ? Buffer.from(record.data, 'base64')
      : Buffer.from(record.data, record.dir === 'note' ? 'utf8' : 'latin1');
  const event: TraceEvent = { t: typeof record.t === 'number' ? record.t : undefined, dir: record.dir, data };
  if (record.fields) event.fields = record.fields;
  if (typeof record.line === 'number') event.line = record.line;
  return event;
}

export function isTraceHeader(value: unknown): value is TraceHeader {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'atbridge-trace';
}

export function noteEvent(t: number | undefined, text: string, fields?: Record<string, unknown>): TraceEvent {
  const event: TraceEvent = { t, dir: 'note', data: Buffer.from(text, 'utf8') };
  if (fields) event.fields = fields;
  return event;
}
