/**
 * `npm run diagnosis-score`: doctor --log over every labelled log in fixtures/logs, scored per split
 * (logs fully right, recall of `must`, `mustNot` hits, healthy logs with an error-level finding).
 * `--verbose` lists each log that is not fully right; `--split train|test` limits that list.
 */
import { fileURLToPath } from 'node:url';
import { scoreCorpus } from '../src/doctor/score/run-corpus.js';
import { formatScore } from '../src/doctor/score/score.js';

const dir = fileURLToPath(new URL('../../fixtures/logs/', import.meta.url));
const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || args.includes('-v');
const only = args.includes('--split') ? args[args.indexOf('--split') + 1] : undefined;

const result = await scoreCorpus(dir);
if (verbose) {
  for (const v of result.verdicts) {
    if (v.right || (only && v.split !== only)) continue;
    const parts = [
      v.mustMissed.length ? `missed ${v.mustMissed.join(',')}` : '',
      v.wrong.length ? `wrong ${v.wrong.join(',')}` : '',
      v.healthyErrors.length ? `healthy but ${v.healthyErrors.join(',')}` : '',
    ].filter(Boolean);
    process.stdout.write(`${v.split.padEnd(5)} ${v.file}: ${parts.join('; ')}  [found ${v.found.join(',') || '-'}]\n`);
  }
}
process.stdout.write(`${formatScore(result.train)}\n${formatScore(result.test)}\n`);
