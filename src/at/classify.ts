import type { CompiledResult, ModuleProfile } from '../profile/module-profile.js';
import type { UrcEventT } from '../profile/schema.js';

/** What a line from the module is, once the command in flight is taken into account. */
export type LineKind = 'echo' | 'command' | 'final' | 'info' | 'urc' | 'busy' | 'noise';

export interface FinalInfo {
  outcome: 'ok' | 'error' | 'connect' | 'no-carrier';
  code?: string;
  table?: string;
  meaning?: string;
  groups: Record<string, string>;
}

export interface UrcInfo {
  name: string;
  event: UrcEventT;
  groups: Record<string, string>;
  meaning?: string;
  table?: string;
}

export interface ClassifiedLine {
  kind: LineKind;
  text: string;
  final?: FinalInfo;
  urc?: UrcInfo;
  busy?: 'processing' | 'sending';
  /** The module rebooted or re-initialised (banner or ROM text). */
  reboot?: boolean;
}

/** The command in flight: it decides whether a shared-prefix line is its answer or a URC. */
export interface CommandContext {
  text: string;
  /** `+CREG:` for `AT+CREG?`: lines with it answer the command. */
  responsePrefix: string | undefined;
  finals: readonly CompiledResult[];
  /** The echo has not been seen yet. */
  echoPending: boolean;
}

/** A host command line as typed: `AT`, `ATE0`, `AT+CSQ`, `at+cwjap="x","y"`; not `AT version:…`. */
const COMMAND_LINE = /^AT(?:[+&*^$#%!][A-Z][A-Z0-9_]*|[A-Z]\d{0,3}|O\d?)?(?:[=?].*)?$/i;

export function looksLikeCommand(text: string): boolean {
  return COMMAND_LINE.test(text.trim());
}

/** `AT+CREG?` → `+CREG`; `ATI` → undefined. */
export function responsePrefixFor(command: string): string | undefined {
  const m = /^AT([+&*^$#%][A-Z][A-Z0-9_]*)/i.exec(command.trim());
  return m ? m[1]!.toUpperCase() : undefined;
}

function isGarbage(text: string): boolean {
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) bad++;
  }
  return bad > 0 && bad * 4 >= text.length;
}

/**
 * Classifies one line. Order (after atat's digester): echo, busy, the command's own
 * finals and answers, URCs, the profile's finals, noise, host commands, the rest.
 */
export function classifyLine(text: string, profile: ModuleProfile, command: CommandContext | undefined): ClassifiedLine {
  const trimmed = text.trim();
  const reboot = profile.isReboot(trimmed);
  const line = (kind: LineKind, extra: Partial<ClassifiedLine> = {}): ClassifiedLine => ({ kind, text, ...(reboot ? { reboot } : {}), ...extra });

  if (command?.echoPending && sameCommand(trimmed, command.text)) return line('echo');
  const busy = profile.matchBusy(trimmed);
  if (busy) return line('busy', { busy });
  if (command) {
    const final = profile.matchFinal(trimmed, command.finals);
    if (final) return line('final', { final: finalInfo(profile, final.spec, final.groups) });
    if (command.responsePrefix && hasPrefix(trimmed, command.responsePrefix) && !isDataNotice(profile, trimmed, command)) return line('info');
  }
  const urc = profile.matchUrc(trimmed);
  if (urc) {
    const code = urc.groups[urc.spec.tableGroup ?? 'code'];
    const meaning = profile.explain(urc.spec.table, code) ?? urc.spec.meaning;
    return line('urc', {
      urc: {
        name: urc.spec.name,
        event: urc.spec.event,
        groups: urc.groups,
        ...(meaning !== undefined ? { meaning } : {}),
        ...(urc.spec.table !== undefined ? { table: urc.spec.table } : {}),
      },
    });
  }
  if (!command) {
    const final = profile.matchFinal(trimmed);
    if (final) return line('final', { final: finalInfo(profile, final.spec, final.groups) });
  }
  if (profile.isNoise(trimmed) || isGarbage(trimmed)) return line('noise');
  if (looksLikeCommand(trimmed)) return line(command ? 'echo' : 'command');
  return line(command ? 'info' : 'noise');
}

/**
 * A data-waiting notice that shares the command's prefix (`+CIPRXGET: 1` inside an
 * `AT+CIPRXGET=2` answer): a module sends it whenever new data arrives, also between a read's
 * data and its OK. It is a URC, not the answer, except to a query (`AT+CIPRXGET?` → `+CIPRXGET: 1`).
 */
function isDataNotice(profile: ModuleProfile, trimmed: string, command: CommandContext): boolean {
  if (command.text.trim().endsWith('?')) return false;
  return profile.matchUrc(trimmed)?.spec.event === 'data-available';
}

function finalInfo(profile: ModuleProfile, spec: CompiledResult, groups: Record<string, string>): FinalInfo {
  const code = groups.code;
  const meaning = profile.explain(spec.table, code) ?? spec.meaning ?? (code !== undefined && /\D/.test(code) ? code : undefined);
  return {
    outcome: spec.outcome,
    groups,
    ...(code !== undefined ? { code } : {}),
    ...(spec.table !== undefined ? { table: spec.table } : {}),
    ...(meaning !== undefined ? { meaning } : {}),
  };
}

function hasPrefix(line: string, prefix: string): boolean {
  if (line.length <= prefix.length) return line.toUpperCase() === prefix;
  const next = line[prefix.length];
  return (next === ':' || next === ' ' || next === '=') && line.slice(0, prefix.length).toUpperCase() === prefix;
}

export function sameCommand(line: string, command: string): boolean {
  return line.length === command.length && line.toUpperCase() === command.toUpperCase();
}

/**
 * A URC glued to the next command's echo with no line end (`+NETOPEN: 0AT+IPADDR`, seen on
 * SIM7600): returns the two parts, or undefined when the line is not such a pair.
 */
export function splitGluedEcho(text: string, command: string | undefined): [string, string] | undefined {
  if (command && text.length > command.length && text.toUpperCase().endsWith(command.toUpperCase())) {
    const before = text.slice(0, text.length - command.length);
    // `FORMAT` does not end with a glued `AT`: the URC before an echo ends in a digit or symbol.
    if (!/[A-Z]$/i.test(before)) return [before, text.slice(text.length - command.length)];
  }
  const at = text.search(/AT[+&][A-Z]/i);
  if (at > 0 && looksLikeCommand(text.slice(at)) && !/[A-Z]$/i.test(text.slice(0, at))) return [text.slice(0, at), text.slice(at)];
  return undefined;
}
