import { listProfileIds, loadProfile } from '../../profile/index.js';
import { linePattern } from '../../profile/module-profile.js';
import type { CommandSpecT } from '../../profile/schema.js';

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
      if (spec?.send && own) out.push({ ...own, ...spec } as CommandSpecT);
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
