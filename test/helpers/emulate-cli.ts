import { spawn, type ChildProcess } from 'node:child_process';

/** `atbridge emulate` from dist (or ATBRIDGE_CLI), for tests that drive it as a person does. */
export const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';

export interface RunningEmulator {
  child: ChildProcess;
  /** What follows "ready ": the pty path or the TCP address. */
  address: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Starts `atbridge emulate ARGS` and resolves on its "ready ADDRESS" line (rejects on exit or after 10 s). */
export function startEmulateCli(args: string[]): Promise<RunningEmulator> {
  const child = spawn(process.execPath, [CLI, 'emulate', ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 10_000);
    const onData = () => {
      const m = /^ready (\S+)\n/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ child, address: m[1]!, stdout: () => stdout, exited });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}
