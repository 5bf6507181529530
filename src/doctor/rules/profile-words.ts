import { listProfileIds, loadProfile } from '../../profile/index.js';
import { linePattern, overridden } from '../../profile/module-profile.js';
import type { CommandSpecT, JoinFailureT } from '../../profile/schema.js';

/**
 * The words doctor rules look for, read off every shipped profile (a log is read before its family
 * is known for sure, and a wrong guess must not hide a finding). Rules key on these, never on a
 * family's command names written in TypeScript.
 */

const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `AT+NETOPEN` → /^AT\+NETOPEN$/i: the exact command line of a template without variables. */
function exactLine(sends: Iterable<string>): RegExp {
  const list = [...new Set(sends)].filter((s) => !s.includes('{'));
  return list.length === 0 ? /(?!)/ : new RegExp(`^(?:${list.map(escape).join('|')})$`, 'i');
}

/** The command text up to its first `=`, as a prefix pattern (`AT+CWJAP_CUR=` → /^AT\+CWJAP_CUR=/i). */
function prefixOf(sends: Iterable<string>): RegExp {
  const list = [...new Set([...sends].map((s) => (s.includes('=') ? s.slice(0, s.indexOf('=') + 1) : s)))];
  return list.length === 0 ? /(?!)/ : new RegExp(`^(?:${list.map(escape).join('|')})`, 'i');
}

function commands(role: string): CommandSpecT[] {
  const out: CommandSpecT[] = [];
  for (const id of listProfileIds()) {
    const p = loadProfile(id);
    const own = p.commands[role];
    if (own) out.push(own);
    for (const q of p.quirks) {
      const spec = q.commands?.[role];
      if (spec?.send && own) out.push(overridden(own, spec));
    }
  }
  return out;
}

export interface NetOpenWords {
  /** The open commands that report a numeric result URC (0 = opened): AT+NETOPEN. */
  open: RegExp;
  /** Their result URCs, code in group `err`. */
  openResult: RegExp[];
  /** The query whose answer reads like that URC but is the state (AT+NETOPEN?). */
  stateQuery: RegExp;
  /** The matching close commands and their result URCs. */
  close: RegExp;
  closeResult: RegExp[];
  /** Error answers that mean the network was open already. */
  alreadyOpen: RegExp[];
  /** The profile table that explains a result code. */
  table: string | undefined;
  /** The open command whose result URC a line is (for messages). */
  openFor(line: string): string | undefined;
}

let netOpen: NetOpenWords | undefined;

/**
 * The families whose data network opens with a command answered by a numeric result URC
 * (`netOpen` with an `awaitUrc` whose success is code 0: SIMCom's NETOPEN → `+NETOPEN: <err>`).
 */
export function netOpenWords(): NetOpenWords {
  if (netOpen) return netOpen;
  const numeric = (s: CommandSpecT) => s.awaitUrc !== undefined && s.awaitUrc.success.length === 1 && s.awaitUrc.success[0] === '0';
  const opens = commands('netOpen').filter(numeric);
  const closes = commands('netClose').filter(numeric);
  netOpen = {
    open: exactLine(opens.map((s) => s.send)),
    openResult: [...new Set(opens.map((s) => s.awaitUrc!.pattern))].map((p) => linePattern(p)),
    stateQuery: exactLine(commands('netStatus').map((s) => s.send)),
    close: exactLine(closes.map((s) => s.send)),
    closeResult: [...new Set(closes.map((s) => s.awaitUrc!.pattern))].map((p) => linePattern(p)),
    alreadyOpen: [...new Set(opens.flatMap((s) => s.alreadyDone ?? []))].map((p) => new RegExp(p, 'i')),
    table: opens.find((s) => s.awaitUrc?.table)?.awaitUrc?.table,
    openFor: (line) => opens.find((s) => linePattern(s.awaitUrc!.pattern).test(line))?.send,
  };
  return netOpen;
}

/** The first pattern's `err` group (or first group) in a line. */
export function resultCode(patterns: readonly RegExp[], line: string): string | undefined {
  for (const re of patterns) {
    const m = re.exec(line);
    if (m) return m.groups?.err ?? m[1];
  }
  return undefined;
}

export { prefixOf };

export interface WifiWords {
  /** A join command (`AT+CWJAP=`, `AT+CWJAP_CUR=`, `AT+CWJAP_DEF=`): the wifiJoin roles, up to `=`. */
  join: RegExp;
  /** A command about the station's AP: join, stored join, status query, leave. */
  station: RegExp;
  /** A join's failure URCs (event `wifi-join-error`): the reason code, what the profile's table says it means, and its joinFailures entry. */
  joinError(line: string): { code: string; meaning: string | undefined; failure: JoinFailureT | undefined } | undefined;
  /** The link-status query and its answer (`STATUS:<n>` in group `status`). */
  linkStatus: { send: string; answer: RegExp } | undefined;
  /** The station-status query (what "No AP" answers). */
  wifiStatus: string | undefined;
}

let wifi: WifiWords | undefined;

/** The Wi-Fi profiles' join, status and leave roles and their join-error URCs. */
export function wifiWords(): WifiWords {
  if (wifi) return wifi;
  const profiles = listProfileIds().map((id) => loadProfile(id)).filter((p) => p.family === 'wifi');
  const sends = (roles: string[]) => profiles.flatMap((p) => roles.map((r) => p.commands[r]?.send).filter((s): s is string => typeof s === 'string'));
  const names = (list: string[]) => list.map((s) => s.replace(/[=?].*$/, ''));
  const errors = profiles.flatMap((p) =>
    p.urcs.filter((u) => u.event === 'wifi-join-error').map((u) => ({ re: linePattern(u.pattern), table: u.table ? p.tables[u.table] : undefined, group: u.tableGroup ?? 'code', failures: p.joinFailures })),
  );
  const status = profiles.map((p) => p.commands['linkStatus']).find((c) => c?.match);
  wifi = {
    join: prefixOf(sends(['wifiJoin', 'wifiJoinStored'])),
    station: new RegExp(`^(?:${[...new Set(names(sends(['wifiJoin', 'wifiJoinStored', 'wifiStatus', 'wifiLeave'])))].map(escape).join('|')})`, 'i'),
    joinError(line) {
      for (const e of errors) {
        const code = e.re.exec(line)?.groups?.[e.group];
        if (code !== undefined) return { code, meaning: e.table?.[code], failure: e.failures?.[code] ?? e.failures?.['*'] };
      }
      return undefined;
    },
    linkStatus: status?.match ? { send: status.send, answer: linePattern(status.match) } : undefined,
    wifiStatus: sends(['wifiStatus'])[0],
  };
  return wifi;
}
