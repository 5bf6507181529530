import type { TimelineEntry } from '../decode/timeline.js';
import type { ReplayScript } from './script.js';

/** What a person compares: the answer lines (no echoes), with the meaning of errors. */
export function answerSummary(entries: TimelineEntry[]): string {
  const parts = entries
    .filter((e) => e.dir === 'rx' && e.kind !== 'echo' && e.kind !== 'noise')
    .map((e) => (e.kind === 'data' ? `[${e.socket?.bytes ?? e.text.length} B]` : e.text) + (e.kind === 'final' && e.outcome !== 'ok' && e.meaning ? ` (${e.meaning})` : ''));
  return parts.join(' | ') || '(nothing)';
}

/** The final result of an answer, for deciding whether recorded and new agree. */
function outcome(entries: TimelineEntry[]): string {
  const final = entries.find((e) => e.kind === 'final' || e.kind === 'prompt');
  return final ? final.text : '';
}

export interface SideBySideRow {
  step: number;
  host: string;
  recorded: string;
  now: string;
  same: boolean;
}

export function sideBySide(script: ReplayScript, answers: TimelineEntry[][]): SideBySideRow[] {
  return script.steps.map((step, i) => {
    const now = answers[i] ?? [];
    return {
      step: i + 1,
      host: step.kind === 'command' ? step.text : `[${step.host.length} B payload]`,
      recorded: answerSummary(step.answer),
      now: answerSummary(now),
      same: outcome(step.answer) === outcome(now),
    };
  });
}

export function formatSideBySide(rows: SideBySideRow[], width = 48): string {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width));
  const lines = [`${'  #'} ${cut('host sent')} ${cut('recorded answer')} now`];
  for (const r of rows) lines.push(`${r.same ? ' ' : '✗'}${String(r.step).padStart(2)} ${cut(r.host)} ${cut(r.recorded)} ${r.now}`);
  return lines.join('\n');
}
