import { hexBytes, HexLines } from './hex-lines.js';
import type { DebugReader, ReaderOut } from './types.js';

/** `D (910) esp-modem: …`, `I (1234) uart-rx: …`, with or without ANSI colour codes (printed or pasted as `\033[0;32m`). */
const LOG = /^(?:\x1b\[[\d;]*m|\\0?33\[[\d;]*m)?([EWIDV]) \((\d+)\) ([\w./-]+): ?(.*?)(?:\x1b\[0m|\\0?33\[0m)?$/;
/** `0x3f404a04   41 54 0d     |AT.|`: esp_log_buffer_hexdump. */
const DUMP = /^0x[0-9a-f]{8}\s+((?:[0-9a-f]{2} {1,2}){1,16})\s*(?:\|.*)?$/i;

/**
 * ESP-IDF logging: esp_modem's hex dumps (`writing:` / `reading:` then `0x… 41 54 0d |AT.|`, or
 * tags `uart-tx` / `uart-rx`), and its text lines (`esp_modem_sync failed`). Tags naming the
 * direction win over the last `writing:` / `reading:`.
 */
export function espIdfReader(): DebugReader {
  const lines = new HexLines();
  let dir: 'tx' | 'rx' = 'rx';
  return {
    name: 'esp-idf',
    read(line) {
      const m = LOG.exec(line);
      if (!m) return undefined;
      const tag = m[3]!;
      const msg = m[4]!;
      if (/(?:^|[-_])tx$/i.test(tag)) dir = 'tx';
      else if (/(?:^|[-_])rx$/i.test(tag)) dir = 'rx';
      if (/^writing:?$/i.test(msg.trim())) {
        dir = 'tx';
        return [];
      }
      if (/^reading:?$/i.test(msg.trim())) {
        dir = 'rx';
        return [];
      }
      const dump = DUMP.exec(msg.trim());
      if (dump) {
        const bytes = hexBytes(dump[1]!);
        return bytes ? lines.push(dir, bytes) : [];
      }
      const out: ReaderOut[] = lines.flush();
      out.push({ dir: 'note', text: line, noAnswer: /sync failed|timeout|no response/i.test(msg) });
      return out;
    },
    flush: () => lines.flush(),
  };
}
