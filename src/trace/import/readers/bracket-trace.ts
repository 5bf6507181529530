import type { DebugReader, ReaderOut } from './types.js';

/**
 * A direction word and the bytes in brackets, often with the byte count between them, control
 * characters written as C escapes: `[SEND][  14][AT+QIDNSCFG=1\r]`, `[RECV][   9][\r\nERROR\r\n]`
 * (Azure embedded-wireless-framework's modem trace; `[TX][AT\r]` / `[RX][..]` the same way).
 */
const LINE = /^\[(SEND|SENT|TX|RECV|RCVD|RX)\]\s*(?:\[\s*\d+\s*\]\s*)?\[(.*)\]\s*$/i;

/** `\r`, `\n`, `\t`, `\"`, `\\`, `\xHH` back to the bytes (latin1 text). */
export function unescapeC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|[rnt0"'\\])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return ({ r: '\r', n: '\n', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}

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
