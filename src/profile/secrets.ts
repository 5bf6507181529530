import { listProfileIds, loadProfile } from './load.js';
import type { Profile } from './schema.js';

/** Template variables whose values are secrets: an argument that carries one is masked in traces. */
export const SECRET_VARS: readonly string[] = ['password', 'pin', 'puk', 'newPin'];

/** A command (its text up to and including '=') and the argument positions (0-based) holding secrets. */
export interface SecretCommand {
  prefix: string;
  secretArgs: number[];
}

/**
 * The secret-bearing commands of one profile, read off its templates: `AT+CWJAP="{ssid}","{password}"`
 * gives `AT+CWJAP=` with argument 1. Quirk overrides count too.
 */
export function secretCommandsOf(profile: Profile): SecretCommand[] {
  const sends = [
    ...Object.values(profile.commands).map((c) => c.send),
    ...profile.quirks.flatMap((q) => Object.values(q.commands ?? {}).map((c) => c.send)),
  ].filter((s): s is string => typeof s === 'string');
  const out = new Map<string, Set<number>>();
  for (const send of sends) {
    const eq = send.indexOf('=');
    if (eq < 0) continue;
    const prefix = send.slice(0, eq + 1).toUpperCase();
    splitArgs(send.slice(eq + 1)).forEach((arg, i) => {
      if (!SECRET_VARS.some((v) => arg.includes(`{${v}}`))) return;
      const set = out.get(prefix) ?? new Set<number>();
      set.add(i);
      out.set(prefix, set);
    });
  }
  return [...out].map(([prefix, args]) => ({ prefix, secretArgs: [...args].sort((a, b) => a - b) }));
}

let shipped: SecretCommand[] | undefined;

/** The union over every shipped profile (a trace is redacted before its family is known). */
export function shippedSecretCommands(): SecretCommand[] {
  if (shipped) return shipped;
  const merged = new Map<string, Set<number>>();
  for (const id of listProfileIds()) {
    for (const c of secretCommandsOf(loadProfile(id))) {
      const set = merged.get(c.prefix) ?? new Set<number>();
      for (const a of c.secretArgs) set.add(a);
      merged.set(c.prefix, set);
    }
  }
  shipped = [...merged].map(([prefix, args]) => ({ prefix, secretArgs: [...args].sort((a, b) => a - b) }));
  return shipped;
}

/** Splits AT arguments on commas outside quotes; `\"` inside quotes is ESP-AT's escape. */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') inQuotes = !inQuotes;
    if (c === ',' && !inQuotes) {
      args.push(current);
      current = '';
    } else current += c;
  }
  args.push(current);
  return args;
}
