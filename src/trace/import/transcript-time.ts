/** Timestamp prefixes found in pasted serial logs, in ms (time of day or since start). */
const STAMPS: { re: RegExp; ms: (m: RegExpExecArray) => number; resolution?: (m: RegExpExecArray) => number }[] = [
  // [2023-07-09 10:01:59.937] or [10:01:59.937] (serial assistants, CoolTerm, PuTTY loggers)
  { re: /^\[(?:\d{4}-\d{2}-\d{2}[ T])?(\d{1,2}):(\d{2}):(\d{2})(?:[.,:](\d{1,6}))?\]\s?/, ms: (m) => tod(m[1], m[2], m[3], m[4]), resolution: (m) => fractionStep(m[4]) },
  // 21:56:25.813 -> (Arduino IDE serial monitor with timestamps)
  { re: /^(\d{1,2}):(\d{2}):(\d{2})\.(\d{1,6}) -> ?/, ms: (m) => tod(m[1], m[2], m[3], m[4]), resolution: (m) => fractionStep(m[4]) },
  // 2023-07-09 10:01:59.937 or 10:01:59.937 followed by a space; 2023/07/09 10:01:59.937: (a colon
  // after the stamp, slashes in the date: ubxlib hosts, many embedded loggers)
  { re: /^(?:\d{4}([-/])\d{2}\1\d{2}[ T])?(\d{1,2}):(\d{2}):(\d{2})[.,](\d{1,6})(?::\s*|\s+)/, ms: (m) => tod(m[2], m[3], m[4], m[5]), resolution: (m) => fractionStep(m[5]) },
  // [  12.345678] (dmesg-like) and 3.041368: (seconds since start)
  { re: /^\[\s*(\d+\.\d+)\]\s?/, ms: (m) => Number(m[1]) * 1000 },
  { re: /^(\d+\.\d{3,}):\s/, ms: (m) => Number(m[1]) * 1000 },
  // [2258] (TinyGSM and similar: millis())
  { re: /^\[(\d{2,9})\]\s/, ms: (m) => Number(m[1]) },
];

/** ms between two stamps that differ in the last digit: 1000 for whole seconds, 100 for `.9`. */
function fractionStep(frac?: string): number {
  return frac ? Math.max(1, 1000 / 10 ** frac.length) : 1000;
}

function tod(h?: string, mi?: string, s?: string, frac?: string): number {
  return ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

export interface Stamped {
  ms: number | undefined;
  /** The stamp's step in ms (1000 when it has whole seconds only). */
  resolutionMs: number;
  rest: string;
}

export function stripTimestamp(line: string): Stamped {
  for (const s of STAMPS) {
    const m = s.re.exec(line);
    if (m) return { ms: s.ms(m), resolutionMs: s.resolution?.(m) ?? 1, rest: line.slice(m[0].length) };
  }
  return { ms: undefined, resolutionMs: 1, rest: line };
}

const DAY = 24 * 3600 * 1000;

/** Turns absolute stamps into ms since the first one, across a midnight. */
export class RelativeClock {
  private first: number | undefined;
  private last: number | undefined;
  private dayOffset = 0;

  at(ms: number | undefined): number | undefined {
    if (ms === undefined) return this.last === undefined ? undefined : this.last - (this.first ?? 0);
    if (this.last !== undefined && ms + this.dayOffset < this.last - DAY / 2) this.dayOffset += DAY;
    const abs = ms + this.dayOffset;
    this.first ??= abs;
    this.last = abs;
    return abs - this.first;
  }
}
