import { looksLikeCommand } from '../../../at/classify.js';
import { stripTimestamp } from '../transcript-time.js';
import type { DebugReader, ReaderOut } from './types.js';

/**
 * The `send_at(command, back, timeout)` helper of Waveshare's Python and MicroPython demos (SIM7600X,
 * SIM868, SIM7080G, SIM7670 HATs and Pico boards), copied into many scripts. It writes the command,
 * sleeps, reads what came, and prints either that reply alone, or its own verdict when the text it
 * waited for (`back`) was not in it: `AT+CMGF=1 ERROR` (the script's word, not the module's), then
 * `AT+CMGF=1 back:\t` and the reply, which is empty when nothing came; some copies print
 * `AT+CMGF=1 no responce` for an empty reply. The lines of a longer reply follow as they are.
 */
const VERDICT = /^(.*?\S) ERROR$/;
const BACK = /^(.*?)\s?back:\t?(.*)$/;
const NONE = /^(.*?\S) no respon[cs]e$/i;

/** Whether a file's first part holds `send_at`'s prints: a command then ` back:`, or then ` no responce`. */
export function hasSendAtPrints(head: string): boolean {
  for (const line of head.split('\n').slice(0, 2000)) {
    const t = stripTimestamp(line.replace(/\r$/, '').trim()).rest.trim();
    const m = BACK.exec(t) ?? NONE.exec(t);
    if (m && looksLikeCommand(m[1]!.trim())) return true;
  }
  return false;
}

export function sendAtReader(): DebugReader {
  /** The command the script last printed, sent (its verdict and its `back:` line name it). */
  let sent: string | undefined;
  const send = (cmd: string): ReaderOut[] => {
    if (sent === cmd) return [];
    sent = cmd;
    return [{ dir: 'tx', text: cmd }];
  };
  return {
    name: 'send-at',
    read(line) {
      const t = line.trim();
      const none = NONE.exec(t);
      if (none && looksLikeCommand(none[1]!)) {
        sent = undefined;
        return [{ dir: 'tx', text: none[1]! }, { dir: 'note', text: t, noAnswer: true, silent: true }];
      }
      const verdict = VERDICT.exec(t);
      if (verdict && looksLikeCommand(verdict[1]!)) {
        sent = undefined;
        return [...send(verdict[1]!), { dir: 'note', text: `${t} (the script's verdict: the reply lacked what it waited for)` }];
      }
      const back = BACK.exec(t);
      if (back && (back[1]!.trim() === '' || looksLikeCommand(back[1]!.trim()))) {
        const cmd = back[1]!.trim();
        const out: ReaderOut[] = cmd === '' ? [] : send(cmd);
        sent = undefined;
        const reply = back[2]!.trim();
        if (reply === '') out.push({ dir: 'note', text: `${t} (nothing came back)`, noAnswer: true, silent: true });
        else out.push({ dir: 'rx', text: reply });
        return out;
      }
      return undefined;
    },
    flush: () => [],
  };
}
