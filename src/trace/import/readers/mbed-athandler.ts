import type { DebugReader } from './types.js';

/**
 * mbed ATCmdParser / ATHandler debug: `AT> ` sent, `AT< ` a line received, `AT? ` the pattern the
 * parser waits for (a scanf format such as `>%n`: the host's, not traffic), `AT! ` an out-of-band
 * line it matched (a URC such as `busy`), `AT(Timeout)` nothing came.
 */
const LINE = /^AT([<>?!=])(?: (.*))?$|^AT\(Timeout\)/;

export function mbedAtHandlerReader(): DebugReader {
  return {
    name: 'mbed-athandler',
    read(line) {
      const m = LINE.exec(line.trimEnd());
      if (!m) return undefined;
      if (m[1] === undefined) return [{ dir: 'note', text: line, noAnswer: true }];
      // `%n` is how ATHandler prints a line end it stopped at.
      const text = (m[2] ?? '').replace(/%n|%r/g, '').trim();
      if (m[1] === '>') return text ? [{ dir: 'tx', text }] : [];
      if (m[1] === '?') return [{ dir: 'note', text: line }];
      return text ? [{ dir: 'rx', text }] : [];
    },
    flush: () => [],
  };
}
