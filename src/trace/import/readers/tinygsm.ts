import type { DebugReader } from './types.js';

/** `[112034] ### Unhandled: 0,0`: TinyGSM's debug print of a module line its parser did not expect. */
const UNHANDLED = /^(?:\[\d+\]\s*)?### Unhandled: ?(.*)$/;
/** `[1234] ### TinyGSM Version: 0.11.5`, `### Modem: SIMCOM SIM800`: the library about itself. */
const OWN = /^(?:\[\d+\]\s*)?(?:###|===) /;

/** TinyGSM's debug output: an unhandled line is the module's (rx); its other `###` lines are notes. */
export function tinygsmReader(): DebugReader {
  return {
    name: 'tinygsm',
    read(line) {
      const m = UNHANDLED.exec(line);
      if (m) {
        const text = m[1]!.trim();
        return text ? [{ dir: 'rx', text }] : [];
      }
      if (OWN.test(line)) return [{ dir: 'note', text: line, noAnswer: /not respond|no response|timeout/i.test(line) }];
      return undefined;
    },
    flush: () => [],
  };
}
