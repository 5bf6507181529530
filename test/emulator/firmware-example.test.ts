import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';

// README "Test your firmware against atbridge emulate": the worked example (a Python program on
// the pty, with the real pyserial) passes against the emulator, and each fault option gives the
// failure a firmware author would see.
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const SCRIPT = 'examples/firmware-check.py';
const run = promisify(execFile);

/** The first python3 with pyserial (a pyenv shim may lack it; the system one has python3-serial). */
function python(): string {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import serial'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('no python3 with pyserial: apt-get install python3-serial (.ci/run does)');
}

let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

async function withEmulator(args: string[], body: (pty: string) => Promise<void>): Promise<void> {
  const pty = join(mkdtempSync(join(tmpdir(), 'atb-fw-')), 'ttyV0');
  const child: ChildProcess = spawn(process.execPath, [CLI, 'emulate', '--profile', 'esp-at', '--pty', pty, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready line')), 10_000);
      child.stdout!.on('data', () => /^ready /.test(stdout) && (clearTimeout(timer), resolve()));
    });
    await body(pty);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function check(pty: string, extra: string[] = []): Promise<{ code: number; stdout: string }> {
  return run(python(), [SCRIPT, pty, '--echo', `127.0.0.1:${echo.port}`, ...extra], { timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

describe('the README firmware example (Python + pyserial on atbridge emulate --pty)', () => {
  it('passes every step against the default emulator (banner after 300 ms: the first AT is lost, the retry answered)', async () => {
    await withEmulator([], async (pty) => {
      const r = await check(pty);
      expect(r.stdout.trim().split('\n')).toEqual([
        'PASS module answers',
        'PASS echo off',
        'PASS station mode',
        'PASS join Wi-Fi',
        'PASS station address: 192.168.4.23',
        'PASS TCP round trip: 23 bytes echoed',
      ]);
      expect(r.code).toBe(0);
    });
  });

  it.each([
    ['--password other', ['--password', 'other'], 'FAIL join Wi-Fi: +CWJAP:2 / ERROR'],
    ['--refuse atbridge-lab', ['--refuse', 'atbridge-lab'], 'FAIL join Wi-Fi: +CWJAP:4 / ERROR'],
    ['--fault silent', ['--fault', 'silent'], 'FAIL module answers: no OK to AT'],
  ])('%s: the firmware sees the documented failure', async (_name, args, line) => {
    await withEmulator(args, async (pty) => {
      const r = await check(pty);
      expect(r.stdout).toContain(line);
      expect(r.code).toBe(1);
    });
  });
});
