import { looksLikeCommand } from '../../../at/classify.js';
import { isTraffic } from '../line-kind.js';
import type { DebugReader } from './types.js';

/**
 * A host program's label in front of each line, in any language: `Risposta ricevuta: AT+CPSI?`,
 * `: OK`, `Response: +CSQ: 20,99`. The label is a few words ending in ": "; what follows must read
 * as traffic by itself, and its direction comes from its content (a command is the host's).
 */
const LABELLED = /^([^\s:+][^:]{0,38}?)?\s*:\s(.+)$/;

/** The traffic after a host's label, or undefined when the line is not a label and traffic. */
export function labelledTraffic(line: string): string | undefined {
  const m = LABELLED.exec(line.trim());
  if (!m) return undefined;
  const label = (m[1] ?? '').trim();
  const rest = m[2]!.trim();
  if (/^AT\b/i.test(label) || label.split(/\s+/).length > 4 || /^\d+$/.test(label)) return undefined;
  if (!isTraffic(rest) || /^[\d.:,"-]+$/.test(rest)) return undefined;
  return rest;
}

export function hostPrefixReader(): DebugReader {
  return {
    name: 'host-prefix',
    read(line) {
      const rest = labelledTraffic(line);
      if (rest === undefined) return undefined;
      return [{ dir: looksLikeCommand(rest) ? 'tx' : 'rx', text: rest }];
    },
    flush: () => [],
  };
}
