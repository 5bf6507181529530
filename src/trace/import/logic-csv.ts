import type { Readable } from 'node:stream';
import type { TraceEvent } from '../events.js';
import { readByteLines, withoutCr } from './byte-lines.js';

/** Bytes closer together than this (and in the same direction) join one event. */
const GAP_MS = 5;

interface Columns {
  time: number;
  value: number;
  /** Analyzer/channel name column, when two UARTs were exported together. */
  channel: number | undefined;
  /** A `type` column (Logic 2): only `data` rows carry bytes. */
  type: number | undefined;
}

/**
 * A logic analyzer's async-serial export (Saleae Logic 1: `Time [s],Value,Parity Error,Framing Error`;
 * Logic 2: `name,type,start_time,duration,"data"`). Values may be `0x41`, `'A'`, `A`, `\r`, `' '`,
 * decimal or `0b…`. With two analyzers the name says which line: one naming RX/module is the
 * module's output, TX/host the host's; otherwise the first name seen is the host.
 */
export async function* importLogicCsv(stream: Readable): AsyncGenerator<TraceEvent> {
  let columns: Columns | undefined;
  const channelDirs = new Map<string, 'tx' | 'rx'>();
  let pending: { dir: 'tx' | 'rx'; t: number; last: number; bytes: number[]; line: number } | undefined;
  let lineNo = 0;
  const flush = (): TraceEvent | undefined => {
    if (!pending) return undefined;
    const event: TraceEvent = { t: pending.t, dir: pending.dir, data: Buffer.from(pending.bytes), line: pending.line };
    pending = undefined;
    return event;
  };
  for await (const raw of readByteLines(stream)) {
    lineNo++;
    const line = withoutCr(raw).toString('latin1');
    if (line.trim() === '') continue;
    const cells = splitCsv(line);
    if (!columns) {
      columns = findColumns(cells);
      continue;
    }
    if (columns.type !== undefined && cells[columns.type]?.toLowerCase() !== 'data') continue;
    const seconds = Number(cells[columns.time]);
    const value = parseValue(cells[columns.value] ?? '');
    if (!Number.isFinite(seconds) || value === undefined) continue;
    const t = seconds * 1000;
    const dir = directionOf(columns.channel === undefined ? undefined : cells[columns.channel], channelDirs);
    if (pending && (pending.dir !== dir || t - pending.last > GAP_MS || pending.bytes.length >= 4096)) {
      const done = flush();
      if (done) yield done;
    }
    pending ??= { dir, t, last: t, bytes: [], line: lineNo };
    pending.bytes.push(value);
    pending.last = t;
  }
  const done = flush();
  if (done) yield done;
}

function findColumns(header: string[]): Columns {
  const lower = header.map((h) => h.toLowerCase().trim());
  const time = lower.findIndex((h) => h.includes('time'));
  const value = lower.findIndex((h) => h === 'value' || h === 'data' || h.startsWith('value') || h.startsWith('data'));
  const channel = lower.findIndex((h) => h === 'name' || h.includes('channel') || h.includes('analyzer'));
  const type = lower.findIndex((h) => h === 'type');
  return {
    time: time < 0 ? 0 : time,
    value: value < 0 ? 1 : value,
    channel: channel < 0 ? undefined : channel,
    type: type < 0 ? undefined : type,
  };
}

function directionOf(channel: string | undefined, known: Map<string, 'tx' | 'rx'>): 'tx' | 'rx' {
  // One UART alone is normally the module's output (the host's commands come back as echo).
  if (channel === undefined) return 'rx';
  const seen = known.get(channel);
  if (seen) return seen;
  let dir: 'tx' | 'rx';
  if (/\brx\b|module|modem|dce|esp|sim/i.test(channel)) dir = 'rx';
  else if (/\btx\b|host|mcu|dte/i.test(channel)) dir = 'tx';
  else dir = known.size === 0 ? 'tx' : 'rx';
  known.set(channel, dir);
  return dir;
}

const NAMED: Record<string, number> = { '\\r': 0x0d, '\\n': 0x0a, '\\t': 0x09, '\\0': 0, CR: 0x0d, LF: 0x0a, SP: 0x20, NUL: 0, ESC: 0x1b };

/** One byte from an export cell; undefined when the cell holds no byte (framing error rows). */
export function parseValue(cell: string): number | undefined {
  let v = cell.trim();
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) {
    const inner = v.slice(1, -1);
    if (inner.length === 1) return inner.charCodeAt(0);
    if (/^\d+$/.test(inner)) return Number(inner) & 0xff;
    v = inner;
  }
  if (v in NAMED) return NAMED[v];
  if (/^0x[0-9a-f]{1,2}$/i.test(v)) return Number.parseInt(v.slice(2), 16);
  if (/^0b[01]{1,8}$/i.test(v)) return Number.parseInt(v.slice(2), 2);
  if (/^\\x[0-9a-f]{2}$/i.test(v)) return Number.parseInt(v.slice(2), 16);
  if (v.length === 1) return v.charCodeAt(0);
  if (/^\d{1,3}$/.test(v)) return Number(v) & 0xff;
  return undefined;
}

/** CSV cells with double-quote quoting (`"a,b"`, `""` for a quote). */
export function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cur);
      cur = '';
    } else cur += c;
  }
  cells.push(cur);
  return cells;
}
