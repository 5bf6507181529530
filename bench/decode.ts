import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCapture } from './capture.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TIME } from './proc.js';

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
  /** Every tool timed on the same file in the same run: decode --json, decode (text), and `jq -c .` as the reference. */
  runs?: DecodeRun[];
}

export interface DecodeRun {
  tool: string;
  wallSeconds: number;
  mbPerSec: number;
  maxRssMb: number;
  ok: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
// The binary users run (package.json "bin"), not dist/src/cli.js: its start-up is in the figure.
const cli = join(here, '..', 'bin', 'atbridge.mjs');

export async function decodeSpeed(targetBytes = 200 * 1024 * 1024): Promise<DecodeResult> {
  const file = join(tmpdir(), `atbridge-bench-capture-${process.pid}.jsonl`);
  const g0 = performance.now();
  const { events } = await writeCapture(file, targetBytes);
  const generateSeconds = (performance.now() - g0) / 1000;
  const captureBytes = statSync(file).size;
  try {
    // Every tool's stdout goes to /dev/null directly (no pipe into this process), as jq's does.
    const m = (await measureCommand(process.execPath, [cli, 'decode', '--json', file])) ?? { code: null, wallSeconds: NaN, maxRssKb: NaN };
    const ok = m.code === 0;
    const text = (await measureCommand(process.execPath, [cli, 'decode', file])) ?? { code: null, wallSeconds: NaN, maxRssKb: NaN };
    const jq = await measureCommand('jq', ['-c', '.', file]);
    const run = (tool: string, r: { code: number | null; wallSeconds: number; maxRssKb: number }): DecodeRun => ({
      tool,
      wallSeconds: r.wallSeconds,
      mbPerSec: captureBytes / 1e6 / r.wallSeconds,
      maxRssMb: r.maxRssKb / 1024,
      ok: r.code === 0,
    });
    const result: DecodeResult = {
      tool: 'atbridge decode --json',
      captureBytes,
      events,
      generateSeconds,
      wallSeconds: m.wallSeconds,
      mbPerSec: captureBytes / 1e6 / m.wallSeconds,
      maxRssMb: m.maxRssKb / 1024,
      ok,
      runs: [run('atbridge decode --json', m), run('atbridge decode (text)', text), ...(jq ? [run('jq -c . (reference)', jq)] : [])],
    };
    if (!ok) result.note = `exit ${m.code} (stderr not kept: rerun decode on the capture to see it)`;
    return result;
  } finally {
    rmSync(file, { force: true });
  }
}

/** `/usr/bin/time` around any program, output discarded; undefined when it is not installed. */
async function measureCommand(program: string, args: string[]): Promise<{ code: number | null; wallSeconds: number; maxRssKb: number } | undefined> {
  const timeFile = join(tmpdir(), `atbridge-bench-time-${process.pid}-${Date.now()}`);
  const child = spawn(TIME, ['-o', timeFile, '-f', '%e %M', program, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('exit', (c) => resolve(c));
  });
  try {
    const [e, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    rmSync(timeFile, { force: true });
    if (code === 127) return undefined;
    return { code, wallSeconds: e!, maxRssKb: m! };
  } catch {
    return undefined;
  }
}
