import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCapture } from './capture.js';
import { measureNode } from './proc.js';

export interface DecodeResult {
  /** What was timed. */
  tool: string;
  captureBytes: number;
  events: number;
  generateSeconds: number;
  wallSeconds: number;
  mbPerSec: number;
  maxRssMb: number;
  ok: boolean;
  note?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli.js');

export async function decodeSpeed(targetBytes = 200 * 1024 * 1024): Promise<DecodeResult> {
  const file = join(tmpdir(), `atbridge-bench-capture-${process.pid}.jsonl`);
  const g0 = performance.now();
  const { events } = await writeCapture(file, targetBytes);
  const generateSeconds = (performance.now() - g0) / 1000;
  const captureBytes = statSync(file).size;
  try {
    const m = await measureNode([cli, 'decode', '--json', file]);
    const ok = m.code === 0;
    const result: DecodeResult = {
      tool: 'atbridge decode --json',
      captureBytes,
      events,
      generateSeconds,
      wallSeconds: m.wallSeconds,
      mbPerSec: captureBytes / 1e6 / m.wallSeconds,
      maxRssMb: m.maxRssKb / 1024,
      ok,
    };
    if (!ok) result.note = `exit ${m.code}: ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    return result;
  } finally {
    rmSync(file, { force: true });
  }
}
