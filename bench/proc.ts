import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const TIME = '/usr/bin/time';

export interface Measured {
  code: number | null;
  wallSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
  /** VmRSS samples (KiB) of the measured process, every `sampleMs`. */
  rssSamplesKb: number[];
}

/**
 * Runs `node ARGS` under /usr/bin/time (user, system CPU and peak RSS as the kernel counts them),
 * sampling the node process's VmRSS meanwhile for a steady-state figure.
 */
export async function measureNode(args: string[], options: { stdin?: Readable; cwd?: string; sampleMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Measured> {
  const timeFile = join(tmpdir(), `atbridge-bench-time-${process.pid}-${Date.now()}`);
  const child = spawn(TIME, ['-o', timeFile, '-f', '%e %U %S %M', process.execPath, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout.length < 1 << 20 ? (stdout += c.toString()) : undefined));
  child.stderr!.on('data', (c: Buffer) => (stderr.length < 1 << 20 ? (stderr += c.toString()) : undefined));
  if (options.stdin) {
    options.stdin.pipe(child.stdin!);
    child.stdin!.on('error', () => {});
  }
  const samples: number[] = [];
  const timer = setInterval(() => {
    const pid = nodePid(child.pid);
    const kb = pid ? vmRss(pid) : undefined;
    if (kb !== undefined) samples.push(kb);
  }, options.sampleMs ?? 200);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearInterval(timer);
  const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(timeFile, { force: true });
  return { code, wallSeconds: e!, userSeconds: u!, sysSeconds: s!, maxRssKb: m!, stdout, stderr, rssSamplesKb: samples };
}

/** The node process /usr/bin/time started. */
function nodePid(timePid: number | undefined): number | undefined {
  if (!timePid) return undefined;
  try {
    const kids = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length > 0 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

function vmRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Median of the middle half of the samples: the steady figure, without start-up and shut-down. */
export function steady(samples: number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const mid = samples.slice(Math.floor(samples.length / 4), Math.ceil((samples.length * 3) / 4));
  const sorted = [...(mid.length > 0 ? mid : samples)].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
