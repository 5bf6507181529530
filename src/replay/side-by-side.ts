import type { TimelineEntry } from '../decode/timeline.js';
import { stepLabel, type ReplayScript } from './script.js';

/** Answer entries a person compares: what the module said, less echoes and line noise. */
function answerEntries(entries: TimelineEntry[]): TimelineEntry[] {
  return entries.filter((e) => e.dir === 'rx' && e.kind !== 'echo' && e.kind !== 'noise');
}

/** What a person compares: the answer lines (no echoes), with the meaning of errors. */
export function answerSummary(entries: TimelineEntry[]): string {
  const parts = answerEntries(entries).map(
    (e) => (e.kind === 'data' ? `[${e.socket?.bytes ?? e.text.length} B]` : e.text) + (e.kind === 'final' && e.outcome !== 'ok' && e.meaning ? ` (${e.meaning})` : ''),
  );
  return parts.join(' | ') || '(nothing)';
}

/**
 * The part of an answer that must agree for a step to count as the same: the final result (or
 * '>' prompt) word for word, and the set of the other lines by name (`+CSQ`, `+IPCLOSE`, a
 * URC's profile name), socket data by its presence. A URC's result code from the profile's
 * tables (`+CIPOPEN: 0,1` network failure) is the result of an operation, so it counts too.
 * Other values (signal levels, states read by a query, byte counts, addresses) may differ from
 * run to run: they are shown, not counted. Busy lines and how lines and data are split or
 * ordered are timing, so they do not count either.
 */
export function answerShape(entries: TimelineEntry[]): string[] {
  const shape = new Set<string>();
  for (const e of answerEntries(entries)) {
    if (e.kind === 'final') shape.add(`final ${e.text.trim().replace(/\s+/g, ' ').toUpperCase()}`);
    else if (e.kind === 'prompt') shape.add('prompt');
    else if (e.kind === 'data') shape.add('data');
    else if (e.kind === 'info') shape.add(`line ${lineName(e)}`);
    else if (e.kind === 'urc') shape.add(`line ${lineName(e)}${e.code !== undefined && e.table !== undefined ? ` ${e.table} ${e.code}` : ''}`);
  }
  return [...shape].sort();
}

/** `+CSQ: 20,99` → `+CSQ`; a URC without a prefix → its profile name; a bare value (an IMEI) → `(value)`. */
function lineName(e: TimelineEntry): string {
  // Names are short: looking at the first 64 characters keeps the match linear on any line.
  const prefix = /^([+#$^]?[A-Za-z][\w.-]*(?: [\w.-]+)*)\s*:/.exec(e.text.trim().slice(0, 64));
  if (prefix) return prefix[1]!.toUpperCase();
  if (e.urc) return e.urc.name;
  return e.kind === 'urc' ? e.text.trim().toUpperCase() : '(value)';
}

export interface SideBySideRow {
  step: number;
  host: string;
  recorded: string;
  now: string;
  /** The answers agree (answerShape); values inside lines may still differ. */
  same: boolean;
}

export function sideBySide(script: ReplayScript, answers: TimelineEntry[][]): SideBySideRow[] {
  return script.steps.map((step, i) => {
    const now = answers[i] ?? [];
    return {
      step: i + 1,
      host: stepLabel(step, 32),
      recorded: answerSummary(step.answer),
      now: answerSummary(now),
      same: answerShape(step.answer).join('\n') === answerShape(now).join('\n'),
    };
  });
}

/** ✗ marks a step whose answer differs, ~ one whose answer agrees with other values in it. */
export function formatSideBySide(rows: SideBySideRow[], width = 48): string {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width));
  const lines = [`${'  #'} ${cut('host sent')} ${cut('recorded answer')} now`];
  for (const r of rows) lines.push(`${r.same ? (r.recorded === r.now ? ' ' : '~') : '✗'}${String(r.step).padStart(2)} ${cut(r.host)} ${cut(r.recorded)} ${r.now}`);
  return lines.join('\n');
}
