import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printable } from '../../src/decode/printable.js';

/** printable as it was written first: the whole buffer as latin1 text, one character at a time. */
function reference(data: Buffer, max = 160): string {
  const text = data.toString('latin1', 0, Math.min(data.length, max * 4));
  const total = data.length;
  if (!/[^\x20-\x7e]/.test(text)) return total > max ? `${text.slice(0, max - 1)}…` : text;
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

describe('printable on bytes', () => {
  it('is the character-by-character reading, for any bytes and any cut (fast-check)', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 700 }),
      // Mostly printable with a few escapes, as socket data and MQTT payloads are.
      fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), { maxLength: 700 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(bytes, fc.integer({ min: 1, max: 200 }), (b, max) => {
        const buf = Buffer.from(b);
        expect(printable(buf, max)).toBe(reference(buf, max));
        expect(printable(buf)).toBe(reference(buf));
      }),
      { seed: 18, numRuns: 4000 },
    );
  });

  it('escapes CR, LF, TAB and other bytes, and cuts with an ellipsis', () => {
    expect(printable(Buffer.from('a\r\n\tb\x00\xff', 'latin1'))).toBe('a\\r\\n\\tb\\x00\\xff');
    expect(printable(Buffer.from('abcdef'), 4)).toBe('abc…');
    expect(printable(Buffer.from('\x00\x00\x00'), 4)).toBe('\\x00');
    expect(printable(Buffer.alloc(0))).toBe('');
  });
});
