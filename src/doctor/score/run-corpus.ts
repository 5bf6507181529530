import { join } from 'node:path';
import { analyzeEvents } from '../analyze.js';
import { profileForFamily } from '../../decode/family.js';
import { loadCapture } from '../load-capture.js';
import { readLabels } from './labels.js';
import { judge, scoreSplit, type LogVerdict, type SplitScore } from './score.js';
import { splitOf } from './split.js';

export interface CorpusScore {
  verdicts: LogVerdict[];
  train: SplitScore;
  test: SplitScore;
}

/** Runs `doctor --log` (in process) over every labelled log in `dir` and scores each split. */
export async function scoreCorpus(dir: string): Promise<CorpusScore> {
  const labels = await readLabels(join(dir, 'labels.json'));
  const verdicts: LogVerdict[] = [];
  for (const [file, label] of [...labels].sort(([a], [b]) => a.localeCompare(b))) {
    const capture = await loadCapture(join(dir, file));
    const analysis = await analyzeEvents(capture.events, {
      profile: capture.profile,
      perLine: capture.perLine,
      ...(capture.family ? { moduleProfile: profileForFamily(capture.family) } : {}),
    });
    verdicts.push(judge(file, splitOf(file), label, analysis.findings));
  }
  const healthy = (file: string) => labels.get(file)?.healthy ?? false;
  return { verdicts, train: scoreSplit('train', verdicts, healthy), test: scoreSplit('test', verdicts, healthy) };
}
