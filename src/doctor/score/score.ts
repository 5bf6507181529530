import type { Finding } from '../findings.js';
import type { Label } from './labels.js';
import type { Split } from './split.js';

/** What the doctor said about one labelled log, judged against its label. */
export interface LogVerdict {
  file: string;
  split: Split;
  right: boolean;
  mustFound: string[];
  mustMissed: string[];
  /** mustNot ids the doctor reported. */
  wrong: string[];
  /** Error-level finding ids on a log labelled healthy. */
  healthyErrors: string[];
  found: string[];
}

export function judge(file: string, split: Split, label: Label, findings: readonly Finding[]): LogVerdict {
  const found = new Set(findings.map((f) => f.id as string));
  const mustFound = label.must.filter((id) => found.has(id));
  const mustMissed = label.must.filter((id) => !found.has(id));
  const wrong = label.mustNot.filter((id) => found.has(id));
  const healthyErrors = label.healthy ? findings.filter((f) => f.severity === 'error').map((f) => f.id as string) : [];
  const right = mustMissed.length === 0 && wrong.length === 0 && healthyErrors.length === 0;
  return { file, split, right, mustFound, mustMissed, wrong, healthyErrors, found: [...found] };
}

export interface SplitScore {
  split: Split;
  logs: number;
  right: number;
  /** Logs fully right, percent (one decimal). */
  rightPercent: number;
  must: number;
  mustFound: number;
  recallPercent: number;
  /** mustNot ids reported, summed over the logs. */
  mustNotHits: number;
  healthy: number;
  /** Healthy logs with an error-level finding. */
  healthyFlagged: number;
}

const pct = (n: number, d: number) => (d === 0 ? 100 : Math.round((1000 * n) / d) / 10);

export function scoreSplit(split: Split, verdicts: readonly LogVerdict[], healthy: (file: string) => boolean): SplitScore {
  const mine = verdicts.filter((v) => v.split === split);
  const right = mine.filter((v) => v.right).length;
  const must = mine.reduce((n, v) => n + v.mustFound.length + v.mustMissed.length, 0);
  const mustFound = mine.reduce((n, v) => n + v.mustFound.length, 0);
  const healthyLogs = mine.filter((v) => healthy(v.file));
  return {
    split,
    logs: mine.length,
    right,
    rightPercent: pct(right, mine.length),
    must,
    mustFound,
    recallPercent: pct(mustFound, must),
    mustNotHits: mine.reduce((n, v) => n + v.wrong.length, 0),
    healthy: healthyLogs.length,
    healthyFlagged: healthyLogs.filter((v) => v.healthyErrors.length > 0).length,
  };
}

export function formatScore(s: SplitScore): string {
  return (
    `${s.split.padEnd(5)}  ${String(s.right).padStart(3)}/${String(s.logs).padEnd(3)} fully right (${s.rightPercent.toFixed(1)}%)` +
    `  must recall ${s.mustFound}/${s.must} (${s.recallPercent.toFixed(1)}%)` +
    `  mustNot hits ${s.mustNotHits}  healthy flagged ${s.healthyFlagged}/${s.healthy}`
  );
}
