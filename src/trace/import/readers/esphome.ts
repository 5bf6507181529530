import type { DebugReader } from './types.js';

/** `[D][sim800l:216]: Unhandled: +CREG: 1,0 - 0` (the time in front is taken off as a timestamp). */
const LOG = /^\[[DIWEVC]\]\[([\w.]+)(?::\d+)?\]: ?(.*)$/;

/**
 * ESPHome's logger. The sim800l component prints what it read as `Unhandled: <line> - <state>`
 * or `Not ack. <state> <line>`, and what it sent as `S <n>: <command>`; anything else is the
 * component talking (a note).
 */
export function esphomeReader(): DebugReader {
  return {
    name: 'esphome',
    read(line) {
      const m = LOG.exec(line);
      if (!m) return undefined;
      const msg = m[2]!.trim();
      const unhandled = /^Unhandled: (.*?) - \d+$/.exec(msg);
      if (unhandled) return unhandled[1] ? [{ dir: 'rx', text: unhandled[1] }] : [];
      const notAck = /^Not ack\. \d+ (.+)$/.exec(msg);
      if (notAck) return [{ dir: 'rx', text: notAck[1]! }];
      const sent = /^S \d+: (AT.*)$/i.exec(msg);
      if (sent) return [{ dir: 'tx', text: sent[1]! }];
      return [{ dir: 'note', text: line, noAnswer: /waiting sync|trying other baud|not responding|timeout/i.test(msg) }];
    },
    flush: () => [],
  };
}
