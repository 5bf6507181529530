import { unescapeC } from '../transcript-markers.js';
import type { DebugReader, ReaderOut } from './types.js';

/**
 * A direction word and the bytes in brackets, often with the byte count between them, control
 * characters written as C escapes: `[SEND][  14][AT+QIDNSCFG=1\r]`, `[RECV][   9][\r\nERROR\r\n]`
 * (Azure embedded-wireless-framework's modem trace; `[TX][AT\r]` / `[RX][..]` the same way).
 */
const LINE = /^\[(SEND|SENT|TX|RECV|RCVD|RX)\]\s*(?:\[\s*\d+\s*\]\s*)?\[(.*)\]\s*$/i;

export function bracketTraceReader(): DebugReader {
  return {
    name: 'bracket-trace',
    read(line) {
      const m = LINE.exec(line.trim());
      if (!m) return undefined;
      const dir = /^(?:SEN[DT]|TX)$/i.test(m[1]!) ? 'tx' : 'rx';
      const out: ReaderOut[] = [];
      for (const part of unescapeC(m[2]!).split(/\r\n|\r|\n/)) if (part.trim() !== '') out.push({ dir, text: part });
      return out;
    },
    flush: () => [],
  };
}
