import type { DebugReader, ReaderOut } from './types.js';

/** `[INFO][CELL]: AT TX ( 8): AT+CPIN?`, `[DBG ][CELL]: …` (mbed-trace; ubxlib-like groups too). */
const LOG = /^\[(INFO|DBG |DBG|WARN|ERR |ERR|TRACE)\]\[(\w+)\s*\]: ?(.*)$/;
const AT_LINE = /^AT (TX|RX|ERR) ?\(\s*\d+\): ?(.*)$/;

/**
 * mbed-os cellular traces. `AT TX`/`AT RX` carry the bytes with `<cr>`/`<ln>` for CR and LF,
 * cut into pieces: the pieces are joined back into lines per direction. Other lines are notes.
 */
export function mbedTraceReader(): DebugReader {
  let dir: 'tx' | 'rx' | undefined;
  let carry = '';
  const flush = (): ReaderOut[] => {
    const out: ReaderOut[] = dir && carry.trim() !== '' ? [{ dir, text: carry }] : [];
    carry = '';
    return out;
  };
  return {
    name: 'mbed-trace',
    read(line) {
      const m = LOG.exec(line);
      if (!m) return undefined;
      const at = AT_LINE.exec(m[3]!);
      if (!at) return [...flush(), { dir: 'note', text: line, noAnswer: /timeout|no response|not responding/i.test(m[3]!) }];
      if (at[1] === 'ERR') return [];
      const d = at[1] === 'TX' ? 'tx' : 'rx';
      const out = d !== dir ? flush() : [];
      dir = d;
      carry += at[2]!.replace(/<cr>/gi, '\r').replace(/<ln>|<lf>/gi, '\n');
      const parts = carry.split(/\r\n|\r|\n/);
      carry = parts.pop() ?? '';
      for (const p of parts) if (p !== '') out.push({ dir: d, text: p });
      return out;
    },
    flush,
  };
}
