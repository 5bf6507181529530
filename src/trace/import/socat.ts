import type { Readable } from 'node:stream';
import type { TraceEvent } from '../events.js';
import { noteEvent } from '../events.js';

const HEADER = /([<>]) (\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+)\s+length=(\d+) from=\d+ to=\d+\n/y;
const HEX_LINE = /^ ((?:[0-9a-f]{2} ?)+)/i;

/**
 * `socat -v` / `socat -x` output (stderr of a socat proxy between host and module).
 * Each transfer is a header (`>` = left-to-right, the host's side when socat runs
 * `socat -v PTY… /dev/ttyUSB0`) with `length=N`, then the data: with -x as hex lines, with -v as
 * text where CR shows as `\r` and other non-printable bytes as `.` (lossy: use -x for binary).
 * With -v the data carries no newline of its own, so the next header can start mid-line:
 * `length=N` tells where the data ends.
 */
export async function* importSocat(stream: Readable): AsyncGenerator<TraceEvent> {
  let buffer = '';
  let t0: number | undefined;
  let warnedLossy = false;
  let pending: { dir: 'tx' | 'rx'; t: number; length: number } | undefined;
  let hexMode: boolean | undefined;
  let collected: number[] = [];

  function* finishPending(): Generator<TraceEvent> {
    if (!pending) return;
    yield { t: pending.t, dir: pending.dir, data: Buffer.from(collected) };
    pending = undefined;
    collected = [];
  }

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buffer += chunk.toString('latin1');
    let pos = 0;
    for (;;) {
      if (pending) {
        if (hexMode === undefined) {
          const nl = buffer.indexOf('\n', pos);
          if (nl < 0) break;
          hexMode = HEX_LINE.test(buffer.slice(pos, nl)) && pending.length > 0 && /^ [0-9a-f]{2}( |$)/i.test(buffer.slice(pos, nl));
        }
        if (hexMode) {
          const nl = buffer.indexOf('\n', pos);
          if (nl < 0) break;
          const line = buffer.slice(pos, nl);
          pos = nl + 1;
          const m = HEX_LINE.exec(line);
          if (m) for (const h of m[1]!.trim().split(/\s+/)) collected.push(Number.parseInt(h, 16));
          // A separator or a short block ends the transfer early.
          if (collected.length >= pending.length || !m) yield* finishPending();
          continue;
        }
        // -v text: count decoded bytes until length is reached.
        warnedLossy = true;
        while (pending && pos < buffer.length && collected.length < pending.length) {
          const c = buffer.charCodeAt(pos);
          if (c === 0x5c /* \ */) {
            if (pos + 1 >= buffer.length) break;
            if (buffer[pos + 1] === 'r') {
              collected.push(0x0d);
              pos += 2;
              continue;
            }
          }
          collected.push(c);
          pos++;
        }
        if (pending && collected.length >= pending.length) {
          yield* finishPending();
          continue;
        }
        break;
      }
      // Between transfers: skip separators and blank lines, find the next header.
      while (pos < buffer.length && (buffer[pos] === '\n' || buffer.startsWith('--\n', pos))) pos += buffer[pos] === '\n' ? 1 : 3;
      HEADER.lastIndex = pos;
      const m = HEADER.exec(buffer);
      if (!m) {
        const nl = buffer.indexOf('\n', pos);
        if (nl < 0 || buffer.length - pos < 200) break;
        // Not a header (socat's own log lines, "N" notices): keep as a note.
        yield noteEvent(undefined, buffer.slice(pos, nl));
        pos = nl + 1;
        continue;
      }
      const [, arrow, y, mo, d, h, mi, s, frac, len] = m;
      const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number(`0.${frac}`) * 1000;
      t0 ??= ms;
      pending = { dir: arrow === '>' ? 'tx' : 'rx', t: ms - t0, length: Number(len) };
      hexMode = undefined;
      collected = [];
      pos = HEADER.lastIndex;
    }
    buffer = buffer.slice(pos);
  }
  if (pending) yield* finishPending();
  if (warnedLossy) yield noteEvent(undefined, 'socat -v shows non-printable bytes as "." — capture with socat -x for exact binary data', { importer: 'socat', lossy: true });
}
