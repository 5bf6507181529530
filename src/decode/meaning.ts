import type { ModuleProfile } from '../profile/index.js';

/** Answers whose code has a table but no URC pattern (`+CSQ: 21,99`, `STATUS:5`, `+CWMODE:1`). */
const ANSWER_TABLES: { re: RegExp; table: string }[] = [
  { re: /^\+CSQ: ?(?<code>\d+),/, table: 'csq' },
  { re: /^STATUS:(?<code>\d+)/, table: 'cipstatus' },
  { re: /^\+CWMODE:(?<code>\d+)$/, table: 'cwmode' },
  { re: /^\+CPIN: ?(?<code>.+)$/, table: 'cpin' },
  // ESP-AT ERR CODE:0x01090000: the second byte is the subcategory.
  { re: /^ERR CODE:0x[0-9a-f]{2}(?<code>[0-9a-f]{2})[0-9a-f]{4}$/i, table: 'errCodeSubcategory' },
];

/** Queries whose answer looks like a URC but holds a state (`AT+NETOPEN?` → `+NETOPEN: 1` = open). */
const STATE_QUERIES: { command: RegExp; answer: RegExp; states: Record<string, string> }[] = [
  { command: /^AT\+NETOPEN\?$/i, answer: /^\+NETOPEN: ?(?<code>\d)$/, states: { '0': 'network not open', '1': 'network open' } },
];

export interface Meaning {
  meaning: string;
  code?: string;
  table?: string;
}

/**
 * The meaning of an information line (the answer to a query), using the same tables URCs use:
 * `+CREG: 0,2` answering AT+CREG? means "not registered, searching" as much as the URC does.
 */
export function meaningOfAnswer(text: string, profile: ModuleProfile, command?: string): Meaning | undefined {
  const trimmed = text.trim();
  const state = STATE_QUERIES.find((q) => q.command.test(command ?? '') && q.answer.test(trimmed));
  if (state) {
    const code = state.answer.exec(trimmed)?.groups?.code ?? '';
    const meaning = state.states[code];
    return meaning === undefined ? undefined : { meaning, code };
  }
  const urc = profile.matchUrc(trimmed);
  // A query's answer reports a state, not the error code the URC of the same name carries.
  const isQuery = /\?$/.test(command ?? '');
  if (urc && !(isQuery && urc.spec.table === 'tcpip')) {
    const code = urc.groups[urc.spec.tableGroup ?? 'code'];
    const meaning = profile.explain(urc.spec.table, code) ?? urc.spec.meaning;
    if (meaning !== undefined) return { meaning, ...(code !== undefined ? { code } : {}), ...(urc.spec.table ? { table: urc.spec.table } : {}) };
  }
  for (const a of ANSWER_TABLES) {
    const code = a.re.exec(trimmed)?.groups?.code;
    if (code === undefined) continue;
    const meaning = profile.explain(a.table, code) ?? (a.table === 'csq' ? csqMeaning(Number(code)) : undefined);
    if (meaning !== undefined) return { meaning, code, table: a.table };
  }
  return undefined;
}

/** rssi 0..31 is -113 dBm in 2 dB steps; 99 unknown (3GPP 27.007). */
function csqMeaning(rssi: number): string | undefined {
  if (rssi >= 0 && rssi <= 31) return `${-113 + 2 * rssi} dBm${rssi < 10 ? ' (weak)' : ''}`;
  return undefined;
}

export function busyMeaning(kind: 'processing' | 'sending'): string {
  return kind === 'processing' ? 'module busy with the previous command; wait for its final result' : 'module busy sending; wait before the next command';
}
