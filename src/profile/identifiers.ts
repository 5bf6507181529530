import { listProfileIds, loadProfile } from './load.js';
import type { Profile } from './schema.js';

/** Named groups of a command's `match` that hold an identifier of one module or one SIM. */
export const IDENTIFIER_GROUPS = ['imei', 'imsi', 'iccid'] as const;
export type IdentifierKind = (typeof IDENTIFIER_GROUPS)[number];

/**
 * An answer line that carries an identifier, read off a profile's command: `AT+CGSN` with
 * `match` `^(?:\+CGSN: ?)?"?(?<imei>\d{14,16})"?$`, `AT+CICCID` with `^\+ICCID: ?(?<iccid>…)$`.
 */
export interface IdentifierAnswer {
  kind: IdentifierKind;
  /** The whole-line pattern, with group indices (`d`). */
  line: RegExp;
  /** The same pattern found inside a text (a message, a joined list of answers). */
  within: RegExp;
  /** The command it answers, up to its `=`/`?` (upper case): a bare answer is taken only after it. */
  command: string;
}

/** The identifier answers of one profile (its commands and its quirks' overrides). */
export function identifierAnswersOf(profile: Profile): IdentifierAnswer[] {
  const specs = [
    ...Object.values(profile.commands),
    ...profile.quirks.flatMap((q) => Object.values(q.commands ?? {})),
  ];
  const out: IdentifierAnswer[] = [];
  for (const spec of specs) {
    const match = spec?.match;
    const send = spec?.send;
    if (typeof match !== 'string' || typeof send !== 'string') continue;
    const kind = IDENTIFIER_GROUPS.find((g) => match.includes(`(?<${g}>`));
    if (!kind) continue;
    const inner = match.replace(/^\^/, '').replace(/\$$/, '');
    out.push({
      kind,
      line: new RegExp(match, 'd'),
      within: new RegExp(`(?<![0-9A-Za-z+])(?:${inner})(?![0-9A-Za-z])`, 'dg'),
      command: send.replace(/[=?].*$/, '').toUpperCase(),
    });
  }
  return out;
}

let shipped: IdentifierAnswer[] | undefined;

/** The union over every shipped profile (a trace is masked before its family is known). */
export function shippedIdentifierAnswers(): IdentifierAnswer[] {
  if (shipped) return shipped;
  const seen = new Map<string, IdentifierAnswer>();
  for (const id of listProfileIds()) {
    for (const a of identifierAnswersOf(loadProfile(id))) {
      const key = `${a.command} ${a.line.source}`;
      if (!seen.has(key)) seen.set(key, a);
    }
  }
  shipped = [...seen.values()];
  return shipped;
}
