import { hexBytes, HexLines } from './hex-lines.js';
import type { DebugReader, ReaderOut } from './types.js';

/** `<dbg> modem_chat: modem_chat_script_next: sending: AT+CSQ` (the `[00:00:04.050,000]` stamp may be in front). */
const LOG = /^(?:\[\d{2}:\d{2}:\d{2}\.\d{3},\d{3}\]\s*)?(?:\x1b\[[\d;]*m|\\0?33\[[\d;]*m)?<(dbg|inf|wrn|err)> ([\w]+): (?:([\w]+): )?(.*?)(?:\x1b\[0m|\\0?33\[0m)?$/;
/** A hex dump continuation line: `   41 54 2b 43 …  |AT+C…|`. */
const DUMP = /^\s+((?:[0-9a-f]{2} {1,2}){1,16})\s*\|.*$/i;

/**
 * Zephyr's modem subsystem: modem_chat (`sending: AT…`, `…received_command: +CSQ: 99,99`,
 * `…received_command: OK`) and modem_cmd_handler's hex dumps after `SENT DATA` / `RECV`.
 */
export function zephyrReader(): DebugReader {
  const lines = new HexLines();
  let dir: 'tx' | 'rx' | undefined;
  return {
    name: 'zephyr',
    read(line) {
      const dump = dir ? DUMP.exec(line.replace(/(?:\x1b|\\0?33)\[[\d;]*m/g, '')) : null;
      if (dump) {
        const bytes = hexBytes(dump[1]!);
        return bytes ? lines.push(dir!, bytes) : [];
      }
      const m = LOG.exec(line);
      if (!m) {
        dir = undefined;
        return undefined;
      }
      const msg = m[4]!;
      const out: ReaderOut[] = lines.flush();
      dir = undefined;
      const sending = /^sending: (.+)$/.exec(msg);
      const received = /^(?:modem_chat_log_received_command|received_command|received): (.+)$/.exec(`${m[3] ?? ''}: ${msg}`.replace(/^: /, ''));
      if (sending) out.push({ dir: 'tx', text: sending[1]! });
      else if (/log_received_command$/.test(m[3] ?? '')) out.push({ dir: 'rx', text: rejoin(msg) });
      else if (received) out.push({ dir: 'rx', text: received[1]! });
      else if (/^SENT DATA$|^SENT$/.test(msg.trim())) dir = 'tx';
      else if (/^RECV$/.test(msg.trim())) dir = 'rx';
      else out.push({ dir: 'note', text: line, noAnswer: /timeout|timed out|no response/i.test(msg) });
      return out;
    },
    flush: () => lines.flush(),
  };
}

/** modem_chat logs a line as its match and arguments apart (`+CSQ:  99 99`): put the commas back. */
function rejoin(msg: string): string {
  const m = /^(\S+:)\s+(.*)$/.exec(msg.trim());
  if (!m) return msg.trim();
  const args = m[2]!.match(/"[^"]*"|\S+/g) ?? [];
  return `${m[1]} ${args.join(',')}`;
}
