import type { Readable } from 'node:stream';
import type { TraceEvent } from '../events.js';
import { noteEvent } from '../events.js';
import { readByteLines } from './byte-lines.js';

const BYTE_LINE = /^([<>])\s+0x([0-9a-f]{2})/i;

/**
 * interceptty output: one byte per line, `< 0x41 (A)` for bytes the host program wrote to the
 * device, `> \t0x4f (O)` for bytes the device sent back (its dumpbuff: 1 = back end to front end). It has no times; consecutive bytes in
 * one direction become one event (cut at each LF so memory stays bounded).
 */
export async function* importInterceptty(stream: Readable): AsyncGenerator<TraceEvent> {
  let dir: 'tx' | 'rx' | undefined;
  let bytes: number[] = [];
  let lineNo = 0;
  let firstLine = 0;
  const flush = (): TraceEvent | undefined => {
    if (!dir || bytes.length === 0) return undefined;
    const event: TraceEvent = { t: undefined, dir, data: Buffer.from(bytes), line: firstLine };
    bytes = [];
    return event;
  };
  for await (const raw of readByteLines(stream)) {
    lineNo++;
    const line = raw.toString('latin1');
    const m = BYTE_LINE.exec(line);
    if (!m) {
      if (line.trim() === '') continue;
      const done = flush();
      if (done) yield done;
      yield { ...noteEvent(undefined, line.trim()), line: lineNo };
      continue;
    }
    const next = m[1] === '<' ? 'tx' : 'rx';
    if (next !== dir) {
      const done = flush();
      if (done) yield done;
      dir = next;
    }
    if (bytes.length === 0) firstLine = lineNo;
    const value = Number.parseInt(m[2]!, 16);
    bytes.push(value);
    if (value === 0x0a || bytes.length >= 4096) {
      const done = flush();
      if (done) yield done;
    }
  }
  const done = flush();
  if (done) yield done;
}
