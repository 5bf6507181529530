import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { profileForFamily } from '../../src/decode/family.js';
import { loadCapture } from '../../src/doctor/load-capture.js';
import { LOGS_DIR } from '../helpers/reference-logs.js';

async function doctor(file: string) {
  const capture = await loadCapture(join(LOGS_DIR, file));
  const a = await analyzeEvents(capture.events, { perLine: capture.perLine, ...(capture.family ? { moduleProfile: profileForFamily(capture.family) } : {}) });
  return a.findings.map((f) => f.id);
}

describe('a pasted thread: each post is its own text', () => {
  it('lines of the next post (`lewisxhe · comment · date`, "Run this sketch") do not answer the commands of the post before', async () => {
    // A train-split log: AT, +++AT, AT typed with nothing back; the maintainer's reply follows.
    expect(await doctor('sim7080_110_t-sim7000g-no-answer-without-passthrough-sketch.txt')).toContain('no-response');
  });
});
