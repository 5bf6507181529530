import { listProfileIds, loadProfile, type ModuleProfile } from '../profile/index.js';
import { linePattern } from '../profile/module-profile.js';

/** TS 27.007 answers whose code has a table but no URC pattern (`+CSQ: 21,99`, `+CPIN: READY`). */
const BASE_ANSWER_TABLES: { re: RegExp; table: string; group: string }[] = [
  { re: /^\+CSQ: ?(?<code>\d+),/, table: 'csq', group: 'code' },
  { re: /^\+CPIN: ?(?<code>.+)$/, table: 'cpin', group: 'code' },
  // ESP-AT ERR CODE:0x01090000: the second byte is the subcategory.
  { re: /^ERR CODE:0x[0-9a-f]{2}(?<code>[0-9a-f]{2})[0-9a-f]{4}$/i, table: 'errCodeSubcategory', group: 'code' },
];

let answerTables: { re: RegExp; table: string; group: string }[] | undefined;

/**
 * Answers a table explains: the base's, and every shipped profile's query whose `match` names a
 * `table` (`STATUS:5` answering the link-status query, `+CWMODE:1`).
 */
function answerTablesOf(): { re: RegExp; table: string; group: string }[] {
  if (answerTables) return answerTables;
  const seen = new Map<string, { re: RegExp; table: string; group: string }>();
  for (const id of listProfileIds()) {
    for (const c of Object.values(loadProfile(id).commands)) {
      if (!c?.match || !c.table || seen.has(c.match)) continue;
      seen.set(c.match, { re: linePattern(c.match), table: c.table, group: c.tableGroup ?? 'code' });
    }
  }
  answerTables = [...BASE_ANSWER_TABLES, ...seen.values()];
  return answerTables;
}

let stateQueries: { command: RegExp; answer: RegExp }[] | undefined;

/**
 * Queries whose answer looks like a URC but holds a state: every shipped profile's `netStatus`
 * query whose match has an `open` group (SIMCom's `+NETOPEN: 1` answering its query = open).
 */
function stateQueriesOf(): { command: RegExp; answer: RegExp }[] {
  if (stateQueries) return stateQueries;
  const seen = new Map<string, { command: RegExp; answer: RegExp }>();
  for (const id of listProfileIds()) {
    const c = loadProfile(id).commands['netStatus'];
    if (!c?.match?.includes('(?<open>') || c.send.includes('{') || seen.has(c.send)) continue;
    seen.set(c.send, { command: new RegExp(`^${c.send.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i'), answer: linePattern(c.match) });
  }
  stateQueries = [...seen.values()];
  return stateQueries;
}

const NETWORK_STATES: Record<string, string> = { '0': 'network not open', '1': 'network open' };

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
  const state = stateQueriesOf().find((q) => q.command.test(command ?? '') && q.answer.test(trimmed));
  if (state) {
    const code = state.answer.exec(trimmed)?.groups?.open ?? '';
    const meaning = NETWORK_STATES[code];
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
  for (const a of answerTablesOf()) {
    const code = a.re.exec(trimmed)?.groups?.[a.group];
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
