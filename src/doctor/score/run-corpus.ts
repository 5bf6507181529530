import { join } from 'node:path';
import { analyzeEvents } from '../analyze.js';
import { profileForFamily } from '../../decode/family.js';
import { loadCapture, type LoadedCapture } from '../load-capture.js';
import { isAtbridgeError } from '../../errors.js';
import type { Finding } from '../findings.js';
import { readLabels } from './labels.js';
import { judge, scoreSplit, type LogVerdict, type SplitScore } from './score.js';
import { splitOf } from './split.js';

export interface CorpusScore {
  verdicts: LogVerdict[];
  train: SplitScore;
  test: SplitScore;
}

/** `doctor --log` on one log; a log with no AT traffic in it (exit 23 from the CLI) has no findings. */
async function findingsOf(path: string): Promise<Finding[]> {
  let capture: LoadedCapture;
  try {
    capture = await loadCapture(path);
  } catch (err) {
    if (isAtbridgeError(err, 'no-traffic')) return [];
    throw err;
  }
  const analysis = await analyzeEvents(capture.events, {
    profile: capture.profile,
    perLine: capture.perLine,
    ...(capture.family ? { moduleProfile: profileForFamily(capture.family) } : {}),
  });
  return analysis.findings;
}

/** Runs `doctor --log` (in process) over every labelled log in `dir` and scores each split. */
export async function scoreCorpus(dir: string): Promise<CorpusScore> {
  const labels = await readLabels(join(dir, 'labels.json'));
  const verdicts: LogVerdict[] = [];
  for (const [file, label] of [...labels].sort(([a], [b]) => a.localeCompare(b))) {
    verdicts.push(judge(file, splitOf(file), label, await findingsOf(join(dir, file))));
  }
  const healthy = (file: string) => labels.get(file)?.healthy ?? false;
  return { verdicts, train: scoreSplit('train', verdicts, healthy), test: scoreSplit('test', verdicts, healthy) };
}
