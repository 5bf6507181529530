import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { until } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI (`npx tsc -p tsconfig.json` first); ATBRIDGE_CLI points elsewhere when needed. */
export const CLI = process.env.ATBRIDGE_CLI ?? `${ROOT}dist/src/cli.js`;

export function cliBuilt(): boolean {
  return existsSync(CLI);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
process.once('exit', killAll);

/** Kills every program a test started and left running (call from afterAll: a failed test may leave one). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Runs a program to its end (with stdin if given); a generous deadline kills a hung one. */
export async function run(command: string, args: string[], options: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  const proc = start(command, args);
  proc.child.stdin?.end(options.stdin ?? '');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

export function atbridge(args: string[], options: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], options);
}

/** A long-running program whose output the test watches. */
export function start(command: string, args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Lines of a -d run that are messages, not debug chatter. */
export function messageLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '' && !l.startsWith('Client ') && !l.startsWith('Subscribed'));
}

/** Starts a subscriber (mosquitto_sub or atbridge sub) with -d and waits for its SUBACK. */
export async function subscriber(kind: 'mosquitto' | 'atbridge', args: string[]) {
  // stdbuf: mosquitto_sub's stdio would otherwise hold its output until exit when stdout is a pipe.
  const proc = kind === 'mosquitto' ? start('stdbuf', ['-oL', 'mosquitto_sub', ...args, '-d']) : start(process.execPath, [CLI, 'sub', ...args, '-d']);
  await until(() => proc.stdout().includes('SUBACK'), `${kind} sub to subscribe (${proc.stderr()})`);
  return proc;
}
