import { STANDARD_COMMANDS } from './3gpp-base.js';
import { DIALECTS, type Dialect } from './dialects.js';
import { startEmulator } from './index.js';

// The emulator's own command table: every dialect, on a fresh registered module, is sent the
// commands drivers send at bring-up and while polling (the TS 27.007 base for cellular families
// and each dialect's own list), and what it answers is recorded. `npm run emulated-commands`
// writes the table into README.md; a test holds README to it.

export type Outcome = 'ok' | 'error' | 'silent';

export interface DialectProbe {
  dialect: Dialect;
  /** Command line → how the module answered it. */
  answers: Map<string, Outcome>;
}

const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*|SHUT OK)\r\n/;

/**
 * The commands probed for a dialect: for its kind, the base (cellular) and every dialect's own list,
 * so a family shows `ERROR` for another family's command it does not have.
 */
export function commandsOf(dialect: Dialect, dialects: readonly Dialect[] = DIALECTS): string[] {
  const sameKind = dialects.filter((d) => d.kind === dialect.kind);
  return [...new Set([...(dialect.kind === 'cellular' ? STANDARD_COMMANDS : []), ...sameKind.flatMap((d) => d.commands ?? [])])];
}

/** The dialects the table shows: every cellular one; a Wi-Fi one once some Wi-Fi dialect lists commands. */
export function tabled(dialects: readonly Dialect[] = DIALECTS): Dialect[] {
  return dialects.filter((d) => commandsOf(d, dialects).length > 0);
}

/** Sends each command to a fresh in-process module of the dialect and records the outcome. */
export async function probeDialect(dialect: Dialect, commands = commandsOf(dialect)): Promise<DialectProbe> {
  const emu = startEmulator({ profile: dialect.id, pacing: false, bootMs: 0, registerAfterMs: 0, echo: false });
  let heard = '';
  emu.link.on('data', (chunk: Buffer) => (heard += chunk.toString('latin1')));
  const answers = new Map<string, Outcome>();
  try {
    await new Promise((r) => setTimeout(r, 20));
    for (const command of commands) {
      heard = '';
      await emu.link.write(Buffer.from(`${command}\r`, 'latin1'));
      answers.set(command, await outcome(() => heard));
    }
  } finally {
    await emu.close();
  }
  return { dialect, answers };
}

async function outcome(heard: () => string): Promise<Outcome> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const m = FINAL.exec(heard());
    if (m) return m[1] === 'OK' || m[1] === 'SHUT OK' ? 'ok' : 'error';
    await new Promise((r) => setTimeout(r, 2));
  }
  return 'silent';
}

export async function probeAll(dialects: readonly Dialect[] = DIALECTS): Promise<DialectProbe[]> {
  const probes: DialectProbe[] = [];
  for (const dialect of tabled(dialects)) probes.push(await probeDialect(dialect, commandsOf(dialect, dialects)));
  return probes;
}

const MARK: Record<Outcome, string> = { ok: '✓', error: 'ERROR', silent: 'no answer' };

/** Markdown: the families, then per kind a table with one row per command and one column per dialect. */
export function renderTable(probes: readonly DialectProbe[]): string {
  const out = probes.map((p) => `- \`${p.dialect.id}\` (${p.dialect.kind}): ${p.dialect.description}`);
  for (const kind of ['cellular', 'wifi'] as const) {
    const group = probes.filter((p) => p.dialect.kind === kind);
    if (group.length === 0) continue;
    const commands = [...new Set(group.flatMap((p) => [...p.answers.keys()]))];
    out.push('', `| ${kind} command | ${group.map((p) => `\`${p.dialect.id}\``).join(' | ')} |`, `|---|${group.map(() => ':-:').join('|')}|`);
    for (const c of commands) out.push(`| \`${c.replace(/\|/g, '\\|')}\` | ${group.map((p) => MARK[p.answers.get(c) ?? 'silent']).join(' | ')} |`);
  }
  return out.join('\n');
}

export const TABLE_START = '<!-- emulated-commands:start (npm run emulated-commands writes this table) -->';
export const TABLE_END = '<!-- emulated-commands:end -->';

/** README with the table between the markers replaced. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} … ${TABLE_END} section`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
