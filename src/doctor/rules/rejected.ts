import { commandName, listProfileIds, loadProfile } from '../../profile/index.js';
import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';
import { finalOutcome, trimmed } from './text.js';

/**
 * Runs after every other rule: a command answered ERROR (or `ERR CODE:`) that no rule explained.
 * Twice or more for one command is an error; once is a warning.
 */
export function rejectedRule(): Rule {
  const byName = new Map<string, ClassifiedEvent[]>();
  /** ERROR finals with no command to go with them: a capture of the module's side only. */
  const orphans: ClassifiedEvent[] = [];
  return {
    name: 'command-rejected',
    onEvent(e, c) {
      if (e.dir === 'rx' && e.kind === 'final' && c.current === undefined && c.commands === 0 && finalOutcome(e) === 'error') orphans.push(e);
    },
    onExchange(ex, c) {
      if (ex.explained) return;
      // An identification scan asks every family's commands; another family's may well be rejected.
      if (foreignProbe(ex.name, c.profile.data.identify.commands)) return;
      const errCode = ex.replies.find((r) => /^ERR CODE:0x[0-9a-f]{8}$/i.test(trimmed(r)));
      // The same command answered OK later: the refusal was passing (the module not ready yet).
      if (finalOutcome(ex.final) === 'ok' && !errCode) {
        const list = byName.get(ex.name);
        if (list) {
          const pairs: ClassifiedEvent[] = [];
          for (let i = 0; i < list.length; i += 2) if (trimmed(list[i]!).toUpperCase() !== ex.command.toUpperCase()) pairs.push(list[i]!, list[i + 1]!);
          if (pairs.length > 0) byName.set(ex.name, pairs);
          else byName.delete(ex.name);
        }
        return;
      }
      if (finalOutcome(ex.final) !== 'error' && !errCode) return;
      const list = byName.get(ex.name) ?? [];
      list.push(ex.start, errCode ?? ex.final!);
      byName.set(ex.name, list);
    },
    finish(c) {
      // The module's side alone (no command in the whole log, echo off): its ERRORs still say it
      // refused commands, only not which.
      if (c.commands === 0 && orphans.length > 0) {
        const answer = orphans[0]!;
        const meaning = answer.classified?.final?.meaning;
        c.add('command-rejected', `the module answered ${trimmed(answer)}${meaning && meaning !== trimmed(answer) ? ` (${meaning})` : ''} ${orphans.length > 1 ? `${orphans.length} times ` : ''}(the host's commands are not in the log)`,
          orphans.slice(0, 6), { severity: orphans.length >= 2 ? 'error' : 'warning' });
      }
      for (const [name, evidence] of byName) {
        const times = evidence.length / 2;
        const answer = evidence[1]!;
        const errCode = /^ERR CODE:0x01([0-9a-f]{2})/i.exec(trimmed(answer))?.[1]?.toLowerCase();
        const meaning = answer.classified?.final?.meaning ?? (errCode ? c.explain(errCode, 'errCodeSubcategory') : undefined);
        c.add('command-rejected', `${name} was rejected ${times > 1 ? `${times} times ` : ''}(${trimmed(answer)}${meaning && meaning !== trimmed(answer) ? `: ${meaning}` : ''})`,
          evidence.slice(0, 6), { severity: times >= 2 ? 'error' : 'warning' });
      }
    },
  };
}

let probes: Set<string> | undefined;

/** A command of some shipped profile's identification scan that is not one of this profile's own. */
function foreignProbe(name: string, own: readonly string[]): boolean {
  probes ??= new Set(listProfileIds().flatMap((id) => loadProfile(id).identify.commands.map(commandName)));
  return probes.has(name) && !own.some((command) => commandName(command) === name);
}
