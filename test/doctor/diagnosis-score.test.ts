import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreCorpus } from '../../src/doctor/score/run-corpus.js';
import { splitOf } from '../../src/doctor/score/split.js';
import { LOGS_DIR } from '../helpers/reference-logs.js';

/** The figures README's "Diagnosis on real logs" table records: `| train | 81 | 46 (56.8%) | …`. */
function readmeFloor(split: 'train' | 'test'): { logs: number; right: number } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const row = new RegExp(`^\\| ${split} \\| (\\d+) \\| (\\d+) \\(`, 'm').exec(readme);
  if (!row) throw new Error(`README has no "| ${split} | …" row in its diagnosis table`);
  return { logs: Number(row[1]), right: Number(row[2]) };
}

describe('diagnosis score over the labelled corpus (fixtures/logs/labels.json)', () => {
  it('the split rule is fixed: a hash of the file name, about 40% in test', () => {
    expect(splitOf('sim800_101_simcomgsmlib-cipstart-timeout-60s.txt')).toBe(splitOf('sim800_101_simcomgsmlib-cipstart-timeout-60s.txt'));
    const names = Array.from({ length: 2000 }, (_, i) => `log_${i}.txt`);
    const share = names.filter((n) => splitOf(n) === 'test').length / names.length;
    expect(share).toBeGreaterThan(0.37);
    expect(share).toBeLessThan(0.43);
  });

  it('no split falls below the figures in README, and no healthy log gets an error-level finding', async () => {
    const score = await scoreCorpus(LOGS_DIR);
    for (const s of [score.train, score.test]) {
      const floor = readmeFloor(s.split);
      expect(s.logs, `${s.split}: number of labelled logs`).toBe(floor.logs);
      expect(s.right, `${s.split}: logs fully right`).toBeGreaterThanOrEqual(floor.right);
      expect(s.healthyFlagged, `${s.split}: healthy logs with an error-level finding`).toBe(0);
    }
  });

  it('a labelled log with no AT traffic in it (exit 23 from the CLI) scores as no findings, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-score-'));
    writeFileSync(join(dir, 'page.txt'), '# Notes\n\nThis page has no module traffic in it at all.\n');
    writeFileSync(join(dir, 'labels.json'), JSON.stringify({ 'page.txt': { must: [], mustNot: ['no-response'], healthy: true, why: 'a page of prose' } }));
    const score = await scoreCorpus(dir);
    expect(score.verdicts).toEqual([expect.objectContaining({ file: 'page.txt', right: true, found: [] })]);
    rmSync(dir, { recursive: true, force: true });
  });
});
