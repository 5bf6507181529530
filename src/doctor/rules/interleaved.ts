import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';

/**
 * An unsolicited line written into the middle of a command's echo (`AT+CIPSEND=0,1,CONNECT` for
 * `AT+CIPSEND=0,98` with `1,CONNECT` inside it): a host parser that waits for its echo or its
 * answer line never sees either. Quoted text is left out (a URL or SSID may hold anything).
 */
const URC_INSIDE = /\d,(?:CONNECT|CLOSED)\b|WIFI (?:CONNECTED|DISCONNECT|GOT IP)|\bSMS DONE\b|\bRDY\b|\+[A-Z][A-Z0-9]{2,}: ?\d/;

export function interleavedRule(): Rule {
  const hits: ClassifiedEvent[] = [];
  return {
    name: 'urc-interleaved',
    onEvent(e) {
      if (e.kind !== 'command' && e.kind !== 'echo') return;
      const body = e.text.trim().slice(3).replace(/"[^"]*"/g, '""');
      if (URC_INSIDE.test(body)) hits.push(e);
    },
    finish(c) {
      if (hits.length === 0) return;
      c.add('urc-interleaved', `an unsolicited line arrived inside a command's echo ${hits.length > 1 ? `${hits.length} times ` : ''}(${hits[0]!.text.trim()})`, hits.slice(0, 4));
    },
  };
}
