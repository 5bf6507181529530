import type { Readable } from 'node:stream';
import type { TraceEvent } from '../events.js';
import { noteEvent } from '../events.js';

const HEADER = /([<>]) (\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+)\s+length=(\d+) from=\d+ to=\d+\n/y;
const HEX_LINE = /^ ((?:[0-9a-f]{2} ?)+)/i;

/**
 * `socat -v` / `socat -x` output (stderr of a socat proxy between host and module).
 * Each transfer is a header (`>` = left-to-right, the host's side when socat runs
 * `socat -v PTY… /dev/ttyUSB0`) with `length=N`, then the data: with -x as hex lines, with -v as
 * text (see VERBOSE_ESCAPES; other non-printable bytes show as `.`, lossy: use -x for binary).
 * With -v the data carries no newline of its own, so the next header can start mid-line:
 * `length=N` bytes, counted after undoing the escapes, tell where the data ends.
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
        pos = takeVerbose(buffer, pos, collected, pending.length, false);
        if (collected.length >= pending.length) {
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
      const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + fractionMs(frac!);
      t0 ??= ms;
      pending = { dir: arrow === '>' ? 'tx' : 'rx', t: ms - t0, length: Number(len) };
      hexMode = undefined;
      collected = [];
      pos = HEADER.lastIndex;
    }
    buffer = buffer.slice(pos);
  }
  // The last -v transfer may end the file without a newline, or with a backslash cut off.
  if (pending && hexMode !== true) {
    warnedLossy = true;
    takeVerbose(buffer, 0, collected, pending.length, true);
  }
  if (pending) yield* finishPending();
  if (warnedLossy) yield noteEvent(undefined, 'socat -v shows non-printable bytes as "." — capture with socat -x for exact binary data', { importer: 'socat', lossy: true });
}

/**
 * What socat -v prints as two characters (xiotransfer.c, checked against socat 1.7.4.4): the
 * backslash escapes below. TAB and LF print as themselves, other non-printables as '.'.
 */
const VERBOSE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['a', 0x07],
  ['b', 0x08],
  ['v', 0x0b],
  ['f', 0x0c],
  ['r', 0x0d],
  ['\\', 0x5c],
]);

/**
 * Decodes -v text from `pos` into `out` until it holds `length` bytes or the text runs out;
 * returns where it stopped. An escape cut by the chunk end waits for the next chunk (`atEnd`:
 * there is none).
 */
function takeVerbose(text: string, pos: number, out: number[], length: number, atEnd: boolean): number {
  while (pos < text.length && out.length < length) {
    const c = text.charCodeAt(pos);
    if (c !== 0x5c) {
      out.push(c);
      pos++;
      continue;
    }
    if (pos + 1 >= text.length && !atEnd) break;
    const byte = VERBOSE_ESCAPES.get(text.charAt(pos + 1));
    // socat always doubles a backslash: a lone one is a damaged file, keep it as it is.
    out.push(byte ?? c);
    pos += byte === undefined ? 1 : 2;
  }
  return pos;
}

/**
 * The header's fraction is tv_usec: six digits, or (socat 1.7.4.4, checked against the clock) the
 * same microseconds padded to nine (`.000692570`). Nine digits of a million or more can only be
 * nanoseconds.
 */
function fractionMs(frac: string): number {
  const n = Number(frac);
  return frac.length > 6 && n < 1e6 ? n / 1000 : Number(`0.${frac}`) * 1000;
}
