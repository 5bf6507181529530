import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer } from '../helpers/echo-server.js';
import { BUILD_ROOT, REPO } from './build.js';
import type { Run } from './matrix.js';

// One run of the matrix, with real parts only: `atbridge emulate --pty` (socat, the built CLI),
// a TCP echo server on loopback, and the TinyGSM program on the pty.

const CLI = join(REPO, 'dist/src/cli.js');
export const TRACE_DIR = join(BUILD_ROOT, 'traces');
/** Longest a program may take (the SIM7600 class alone waits 24 s after AT+CRESET). */
const RUN_TIMEOUT_MS = 150_000;

export interface CheckLine {
  pass: boolean;
  ms: number;
  detail: string;
}

export interface RunResult {
  checks: Map<string, CheckLine>;
  /** Check names in the order printed (a name printed twice is a sketch bug the test reports). */
  order: string[];
  notes: string[];
  done: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** What the emulated module saw and said (JSONL). */
  trace: string;
  wallMs: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function track(child: ChildProcess): Promise<number | null> {
  live.add(child);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
}

async function startEmulator(profile: string, pty: string, trace: string, options: string[]): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'emulate', '--profile', profile, '--pty', pty, '--trace', trace, ...options], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`atbridge emulate printed no ready line in 20 s: ${stderr.trim()}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/^ready \S+\n/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`atbridge emulate exited ${code}: ${stderr.trim()}`));
    });
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function runProgram(program: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = track(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  return exited.then((code) => {
    clearTimeout(timer);
    return { code, stdout, stderr };
  });
}

/** `CHECK <name> <pass|fail> <ms> <detail>`, `NOTE <text>`, `DONE <passed>/<total>`. */
export function parseOutput(stdout: string): Pick<RunResult, 'checks' | 'order' | 'notes' | 'done'> {
  const checks = new Map<string, CheckLine>();
  const order: string[] = [];
  const notes: string[] = [];
  let done = false;
  for (const line of stdout.split('\n')) {
    const check = /^CHECK (\S+) (pass|fail) (\d+) ?(.*)$/.exec(line);
    if (check) {
      order.push(check[1]!);
      checks.set(check[1]!, { pass: check[2] === 'pass', ms: Number(check[3]), detail: check[4]! });
    } else if (line.startsWith('NOTE ')) {
      notes.push(line.slice(5));
    } else if (/^DONE \d+\/\d+$/.test(line)) {
      done = true;
    }
  }
  return { checks, order, notes, done };
}

export async function runScenario(run: Run, program: string): Promise<RunResult> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'atb-tinygsm-'));
  mkdirSync(TRACE_DIR, { recursive: true });
  const trace = join(TRACE_DIR, `${run.family.family}-${run.scenario.scenario}.jsonl`);
  const pty = join(dir, 'ttyV0');
  const echo = await startEchoServer();
  try {
    const emulator = await startEmulator(run.family.profile, pty, trace, run.emulatorArgs);
    try {
      const out = await runProgram(program, ['--port', pty, '--host', '127.0.0.1', '--echo-port', String(echo.port), ...run.sketchArgs]);
      return { ...parseOutput(out.stdout), exitCode: out.code, stdout: out.stdout, stderr: out.stderr, trace, wallMs: Date.now() - started };
    } finally {
      await emulator.stop();
    }
  } finally {
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
