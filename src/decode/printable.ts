/** Text for a person: control and non-ASCII bytes escaped (\r \n \xHH), cut at `max` characters. */
export function printable(data: Buffer | string, max = 160): string {
  const text = typeof data === 'string' ? data : data.toString('latin1', 0, Math.min(data.length, max * 4));
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
