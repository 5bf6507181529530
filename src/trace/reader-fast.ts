import type { TraceEvent } from './events.js';

/**
 * The common shape of a trace line, read straight from its bytes: `{"t":N,"dir":"tx"|"rx","data":"…"}`,
 * optionally with `"enc":"base64"` and `"line":N` after the data, exactly as TraceWriter writes
 * them. It gives the same event JSON.parse and fromRecord would, or undefined for any line it does
 * not read in full (another key order, a note, fields, an exponent, bad JSON): those take the
 * general path, which also words the errors. No string per line, no parsed object, no regex.
 */
export function fastEvent(buf: Buffer, start: number, end: number): TraceEvent | undefined {
  let p = start;
  if (end - p < 28 || !matches(buf, p, T_KEY)) return undefined;
  p += T_KEY.length;
  // t: -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 15 digits, so mantissa / 10^k is the correctly
  // rounded double, the one JSON.parse gives.
  let negative = false;
  if (buf[p] === MINUS) {
    negative = true;
    p++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let c = buf[p]!;
  if (c === ZERO) {
    p++;
  } else if (c > ZERO && c <= NINE) {
    while (p < end && (c = buf[p]!) >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      p++;
    }
  } else return undefined;
  if (buf[p] === DOT) {
    p++;
    const from = p;
    while (p < end && (c = buf[p]!) >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      p++;
    }
    fraction = p - from;
    if (fraction === 0) return undefined;
  }
  if (digits > 15) return undefined;
  let t = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
  if (negative) t = -t;
  if (!matches(buf, p, DIR_KEY)) return undefined;
  p += DIR_KEY.length;
  let dir: 'tx' | 'rx';
  if (buf[p] === 0x74 && buf[p + 1] === 0x78) dir = 'tx';
  else if (buf[p] === 0x72 && buf[p + 1] === 0x78) dir = 'rx';
  else return undefined;
  p += 2;
  if (!matches(buf, p, DATA_KEY)) return undefined;
  p += DATA_KEY.length;
  // The string: printable ASCII and escapes only (UTF-8 or raw controls take the general path).
  const from = p;
  let escapes = false;
  for (;;) {
    if (p >= end) return undefined;
    c = buf[p]!;
    if (c === QUOTE) break;
    if (c < 0x20 || c > 0x7e) return undefined;
    if (c === BACKSLASH) {
      escapes = true;
      p++;
    }
    p++;
  }
  const to = p;
  p++;
  let base64 = false;
  if (matches(buf, p, ENC_KEY)) {
    base64 = true;
    p += ENC_KEY.length;
  }
  let line: number | undefined;
  if (matches(buf, p, LINE_KEY)) {
    p += LINE_KEY.length;
    c = buf[p]!;
    if (c < ZERO || c > NINE || (c === ZERO && buf[p + 1] !== CLOSE)) return undefined;
    line = 0;
    const first = p;
    while (p < end && (c = buf[p]!) >= ZERO && c <= NINE) {
      line = line * 10 + (c - ZERO);
      p++;
    }
    if (p - first > 15) return undefined;
  }
  if (p !== end - 1 || buf[p] !== CLOSE) return undefined;
  let data: Buffer | undefined;
  if (base64) {
    if (escapes) return undefined;
    data = decodeBase64(buf, from, to);
  } else data = escapes ? unescapeLatin1(buf, from, to) : copy(buf, from, to);
  if (data === undefined) return undefined;
  const event: TraceEvent = { t, dir, data };
  if (line !== undefined) event.line = line;
  return event;
}

const T_KEY = Buffer.from('{"t":', 'latin1');
const DIR_KEY = Buffer.from(',"dir":"', 'latin1');
const DATA_KEY = Buffer.from('","data":"', 'latin1');
const ENC_KEY = Buffer.from(',"enc":"base64"', 'latin1');
const LINE_KEY = Buffer.from(',"line":', 'latin1');
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

function matches(buf: Buffer, at: number, key: Buffer): boolean {
  if (at + key.length > buf.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

/**
 * Event data is cut from slabs, as Buffer.from cuts small buffers from its pool: one allocation
 * per 64 KiB of data instead of one per event; nothing is written twice.
 */
const SLAB = 8 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

function take(n: number): Buffer {
  if (n > SLAB >> 3) return Buffer.allocUnsafeSlow(n);
  if (slabUsed + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  // Keep the next cut 8-byte aligned, as the pool does.
  slabUsed += (n + 7) & ~7;
  return out;
}

function copy(buf: Buffer, from: number, to: number): Buffer {
  const out = take(to - from);
  buf.copy(out, 0, from, to);
  return out;
}

/** JSON string escapes to bytes, as Buffer.from(JSON.parse(s), 'latin1') gives them (\u00XX → its low byte). */
function unescapeLatin1(buf: Buffer, from: number, to: number): Buffer | undefined {
  const out = take(to - from);
  let n = 0;
  for (let i = from; i < to; i++) {
    let c = buf[i]!;
    if (c === BACKSLASH) {
      c = buf[++i]!;
      switch (c) {
        case 0x72: c = 0x0d; break; // r
        case 0x6e: c = 0x0a; break; // n
        case 0x74: c = 0x09; break; // t
        case 0x22: case 0x5c: case 0x2f: break; // " \ /
        case 0x62: c = 0x08; break; // b
        case 0x66: c = 0x0c; break; // f
        case 0x75: { // uXXXX: latin1 keeps the low byte of the UTF-16 unit
          if (i + 4 >= to) return undefined;
          let v = 0;
          for (let k = 1; k <= 4; k++) {
            const h = HEX[buf[i + k]!]!;
            if (h < 0) return undefined;
            v = (v << 4) | h;
          }
          i += 4;
          c = v & 0xff;
          break;
        }
        default:
          return undefined;
      }
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/** The base64 alphabet's values; -1 for anything else. */
const B64 = new Int8Array(256).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < 64; i++) B64[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d;

/**
 * Strict base64 (whole groups of 4, `=` only at the end): checked and decoded in one pass. The
 * rest (other lengths, stray `=`) is left to the general path, which checks it with the format's
 * regex and decodes it as Buffer.from does.
 */
function decodeBase64(buf: Buffer, from: number, to: number): Buffer | undefined {
  const length = to - from;
  if (length % 4 !== 0) return undefined;
  let pad = 0;
  if (length > 0 && buf[to - 1] === PAD) pad = buf[to - 2] === PAD ? 2 : 1;
  const out = take((length / 4) * 3 - pad);
  let n = 0;
  const whole = to - (pad > 0 ? 4 : 0);
  let i = from;
  for (; i < whole; i += 4) {
    const a = B64[buf[i]!]!;
    const b = B64[buf[i + 1]!]!;
    const c = B64[buf[i + 2]!]!;
    const d = B64[buf[i + 3]!]!;
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[n++] = v >> 16;
    out[n++] = (v >> 8) & 0xff;
    out[n++] = v & 0xff;
  }
  if (pad > 0) {
    const a = B64[buf[i]!]!;
    const b = B64[buf[i + 1]!]!;
    const c = pad === 1 ? B64[buf[i + 2]!]! : 0;
    if ((a | b | c) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[n++] = v >> 16;
    if (pad === 1) out[n++] = (v >> 8) & 0xff;
  }
  return out;
}
