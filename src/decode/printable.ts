/** Text for a person: control and non-ASCII bytes escaped (\r \n \t \xHH), cut at `max` characters. */
export function printable(data: Buffer | string, max = 160): string {
  if (typeof data !== 'string') return printableBytes(data, max);
  const text = data;
  const total = data.length;
  // Most socket data and lines are plain ASCII: no escaping to do.
  if (!NEEDS_ESCAPE.test(text)) return total > max ? `${text.slice(0, max - 1)}…` : text;
  let out = '';
  for (let i = 0; i < text.length && out.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c > 0x7e) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += text[i];
  }
  return out.length >= max && total > max ? `${out.slice(0, max - 1)}…` : out;
}

const NEEDS_ESCAPE = /[^\x20-\x7e]/;

/** Each byte's escape ('' for the printable ones, which stand for themselves). */
const ESCAPES = Array.from({ length: 256 }, (_, c) =>
  c === 0x0d ? '\\r' : c === 0x0a ? '\\n' : c === 0x09 ? '\\t' : c < 0x20 || c > 0x7e ? `\\x${c.toString(16).padStart(2, '0')}` : '',
);

/**
 * The same for bytes, without a string of the whole buffer: runs of printable bytes are cut out
 * whole and only the bytes between them escaped (the string loop above adds one character at a time).
 */
function printableBytes(data: Buffer, max: number): string {
  const end = Math.min(data.length, max * 4);
  let out = '';
  let i = 0;
  while (i < end && out.length < max) {
    let j = i;
    while (j < end && data[j]! >= 0x20 && data[j]! <= 0x7e) j++;
    if (j > i) {
      const n = Math.min(j - i, max - out.length);
      out += data.toString('latin1', i, i + n);
      i += n;
      continue;
    }
    out += ESCAPES[data[i]!]!;
    i++;
  }
  return out.length >= max && data.length > max ? `${out.slice(0, max - 1)}…` : out;
}
