import { isFindingId, type Severity } from '../findings.js';
import type { Rule } from '../engine.js';

/**
 * Findings a live check wrote into the trace as notes (`fields.finding`): a port that does not
 * open or a refused MQTT login leave no AT bytes, but replaying the trace finds them again.
 */
export function notesRule(): Rule {
  return {
    name: 'notes',
    onEvent(e, c) {
      if (e.dir !== 'note' || !e.fields || !isFindingId(e.fields.finding)) return;
      const severity = e.fields.severity;
      const fix = e.fields.fix;
      c.add(e.fields.finding, e.text, [e], {
        ...(severity === 'error' || severity === 'warning' || severity === 'info' ? { severity: severity as Severity } : {}),
        ...(typeof fix === 'string' ? { fix } : {}),
      });
    },
  };
}
