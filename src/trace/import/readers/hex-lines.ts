import type { ReaderOut } from './types.js';

/**
 * Bytes from a hex dump, put back into lines per direction: dumps cut the stream every 16 bytes,
 * the conversation wants whole lines. A change of direction ends the line in progress.
 */
export class HexLines {
  private dir: 'tx' | 'rx' | undefined;
  private carry = '';

  push(dir: 'tx' | 'rx', dumped: Buffer): ReaderOut[] {
    // NULs pad some dumps (esp_modem writes the C string's terminator): no line holds them.
    const bytes = dumped.filter((b) => b !== 0);
    if (bytes.length === 0) return [];
    const out = dir !== this.dir ? this.flush() : [];
    // A PPP (0x7e) or CMUX (0xf9) frame: the library is in data mode, these bytes are no AT line.
    if (this.carry === '' && (bytes[0] === 0x7e || bytes[0] === 0xf9)) {
      this.dir = dir;
      out.push({ dir: 'note', text: `${dir === 'tx' ? 'sent' : 'received'} ${bytes[0] === 0x7e ? 'PPP' : 'CMUX'} frame bytes: ${Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ')}` });
      return out;
    }
    this.dir = dir;
    this.carry += Buffer.from(bytes).toString('latin1');
    const parts = this.carry.split(/\r\n|\r|\n/);
    this.carry = parts.pop() ?? '';
    for (const p of parts) if (p !== '') out.push({ dir, text: p });
    return out;
  }

  flush(): ReaderOut[] {
    const out: ReaderOut[] = this.dir && this.carry !== '' ? [{ dir: this.dir, text: this.carry }] : [];
    this.carry = '';
    return out;
  }
}

/** `41 54 0d 0a` (pairs of hex digits separated by single spaces, an extra space between halves). */
export function hexBytes(text: string): Buffer | undefined {
  const t = text.trim();
  if (!/^[0-9a-f]{2}(?: {1,2}[0-9a-f]{2})*$/i.test(t)) return undefined;
  return Buffer.from(t.replace(/\s+/g, ''), 'hex');
}
