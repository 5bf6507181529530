/**
 * Identifiers of one module or one SIM (IMEI, IMSI, ICCID) are shown the same way everywhere a
 * person or a file sees them (traces, decode, the HTML page, doctor's findings, messages): the
 * first 4 and the last 4 characters kept, each one between them a `*`, so the length stays
 * (`861234050000000` → `8612*******0000`). The first digits say the maker or the operator, the
 * last ones tell your own modules and SIMs apart; the rest never leaves the machine. An identifier
 * shorter than 12 characters is masked whole.
 *
 * Which lines carry one is the profiles' data: every command whose `match` has a named group
 * `imei`, `imsi` or `iccid` (src/profile/identifiers.ts). A labelled answer (`IMEI: …`,
 * `+ICCID: …`) is masked wherever it appears; a bare one (digits alone, as AT+CGSN and AT+CIMI
 * answer) only as the answer to its command, so no other number is taken for one.
 */

import { shippedIdentifierAnswers, type IdentifierAnswer } from '../profile/identifiers.js';

/** Characters kept at each end of an identifier. */
export const IDENTIFIER_KEPT = 4;

/** One identifier as shown: ends kept, the middle masked, the length unchanged. */
export function maskIdentifier(value: string): string {
  if (value.length < 3 * IDENTIFIER_KEPT) return '*'.repeat(value.length);
  return value.slice(0, IDENTIFIER_KEPT) + '*'.repeat(value.length - 2 * IDENTIFIER_KEPT) + value.slice(-IDENTIFIER_KEPT);
}

/** An answer that is the identifier alone (digits, maybe quoted): it needs its command to be one. */
function isBare(text: string): boolean {
  return /^"?[0-9A-Fa-f]+"?$/.test(text.trim());
}

function commandName(command: string | undefined): string {
  return (command ?? '').trim().replace(/[=?].*$/, '').toUpperCase();
}

function maskSpan(text: string, start: number, end: number): string {
  return text.slice(0, start) + maskIdentifier(text.slice(start, end)) + text.slice(end);
}

function groupSpan(a: IdentifierAnswer, m: RegExpExecArray): [number, number] | undefined {
  return m.indices?.groups?.[a.kind];
}

/**
 * One line as the module sent it (no line end), its identifier masked; `command` is the command
 * it answers, when known (a bare answer is masked only after its own command).
 */
export function maskIdentifierLine(line: string, command?: string, known?: KnownIdentifiers): string {
  const span = identifierIn(line, command);
  if (!span) return line;
  known?.add(line.slice(span[0], span[1]));
  return maskSpan(line, span[0], span[1]);
}

/** Where the identifier of an answer line sits ([start, end) in `line`), if it is one. */
export function identifierIn(line: string, command?: string): [number, number] | undefined {
  const trimmed = line.trim();
  if (trimmed.length < 6 || trimmed.length > 64 || !/\d/.test(trimmed)) return undefined;
  const lead = line.indexOf(trimmed);
  const name = commandName(command);
  for (const a of shippedIdentifierAnswers()) {
    const m = a.line.exec(trimmed);
    if (!m) continue;
    if (isBare(trimmed) && a.command !== name) continue;
    const span = groupSpan(a, m);
    if (span) return [lead + span[0], lead + span[1]];
  }
  return undefined;
}

/**
 * Identifiers a capture has shown so far: the module's own answers say which numbers are its
 * IMEI or its SIM's, and the same number elsewhere later (a client id `AT+UMQTT=0,"<IMEI>"`, a
 * topic, a CONNECT) is masked the same way.
 */
export class KnownIdentifiers {
  private readonly values = new Map<string, string>();

  add(value: string): void {
    if (value.length >= 3 * IDENTIFIER_KEPT && !this.values.has(value)) this.values.set(value, maskIdentifier(value));
  }

  get size(): number {
    return this.values.size;
  }

  /** Each known identifier and its mask. */
  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  mask(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const [value, masked] of this.values) if (out.includes(value)) out = out.split(value).join(masked);
    return out;
  }
}

/**
 * Every labelled identifier inside a text (`… | IMEI: 861234050000000 | …`, a message that
 * quotes the module), masked; with `command`, a text that is a bare answer to it is masked too.
 */
export function maskIdentifiersInText(text: string, command?: string): string {
  if (!/\d{6}/.test(text)) return text;
  let out = maskIdentifierLine(text, command);
  for (const a of shippedIdentifierAnswers()) {
    a.within.lastIndex = 0;
    for (let m = a.within.exec(out); m; m = a.within.exec(out)) {
      const span = groupSpan(a, m);
      if (span && !isBare(m[0])) out = maskSpan(out, span[0], span[1]);
      if (m[0].length === 0) a.within.lastIndex++;
    }
  }
  return out;
}

/** A line not finished yet that may still become an identifier answer: a short label, then digits. */
const MAYBE_IDENTIFIER = /^\s*(?:\+|\+?[A-Za-z]{1,10}(?:: ?)?)?"?[0-9A-Fa-f]*"?$/;
const LONGEST_LINE = 64;

/**
 * The module's side of a byte stream with identifier answers masked in place (same length),
 * wherever the stream is cut: a line that may become one is held back until its line end
 * ({@link holdBack}); one written before its end (a flush) has its digits masked from the 5th on,
 * and the rest of its line too.
 */
export class IdentifierStream {
  /** `learn`: told each identifier found, so the same number is masked wherever else it appears. */
  constructor(private readonly learn?: (value: string) => void) {}

  private lineStart = true;
  private maskRest = false;
  private lastCommand: string | undefined;
  private txLine = '';

  /** The host's bytes: the last command line sent is what a bare answer answers. */
  noteTx(data: Buffer): void {
    const text = this.txLine + data.toString('latin1');
    const end = Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n'));
    if (end >= 0) {
      const lines = text.slice(0, end).split(/[\r\n]+/).map((l) => l.trim()).filter((l) => /^AT/i.test(l));
      if (lines.length > 0) this.lastCommand = lines[lines.length - 1];
    }
    this.txLine = text.slice(end + 1).slice(-LONGEST_LINE);
  }

  /** How many trailing bytes must wait for the rest of their line. */
  holdBack(data: Buffer): number {
    const text = data.toString('latin1');
    const end = Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n'));
    if (end < 0 && !this.lineStart) return 0;
    const tail = text.slice(end + 1);
    if (tail.length === 0 || tail.length > LONGEST_LINE || !MAYBE_IDENTIFIER.test(tail)) return 0;
    return tail.length;
  }

  /** A bare number only after a command that answers with one. */
  private mayAnswer(seg: string): boolean {
    if (!isBare(seg)) return true;
    const name = commandName(this.lastCommand);
    return shippedIdentifierAnswers().some((a) => a.command === name);
  }

  /** Masks what passes (every byte once, in order). */
  process(data: Buffer): Buffer {
    let out: Buffer | undefined;
    let i = 0;
    while (i < data.length) {
      let end = -1;
      for (let k = i; k < data.length; k++) if (data[k] === 0x0d || data[k] === 0x0a) { end = k; break; }
      const segEnd = end < 0 ? data.length : end;
      if (segEnd > i) {
        const seg = data.toString('latin1', i, segEnd);
        let shown = seg;
        if (this.maskRest) shown = seg.replace(/[0-9A-Fa-f]/g, '*');
        else if (this.lineStart && end >= 0) {
          const span = identifierIn(seg, this.lastCommand);
          if (span) {
            this.learn?.(seg.slice(span[0], span[1]));
            shown = maskSpan(seg, span[0], span[1]);
          }
        }
        else if (this.lineStart && seg.length <= LONGEST_LINE && MAYBE_IDENTIFIER.test(seg) && /\d{5}/.test(seg) && this.mayAnswer(seg)) {
          // Cut before its end: keep what the rule keeps at the front, mask every digit after.
          let digits = 0;
          shown = seg.replace(/\d/g, (d) => (++digits > IDENTIFIER_KEPT ? '*' : d));
          this.maskRest = true;
        }
        if (shown !== seg) {
          out ??= Buffer.from(data);
          out.write(shown, i, 'latin1');
        }
        this.lineStart = false;
      }
      if (end < 0) break;
      this.lineStart = true;
      this.maskRest = false;
      i = end + 1;
    }
    return out ?? data;
  }
}
