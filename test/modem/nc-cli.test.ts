import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const WIFI = ['--wifi-ssid', 'atbridge-lab', '--wifi-password', 'correct horse'];

function nc(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'nc', ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

describe('printf hello | atbridge nc --device … HOST PORT', () => {
  it.each([
    ['emu:sim7600', []],
    ['emu:sim7600', ['--transparent']],
    ['emu:esp-at', WIFI],
    ['emu:esp-at', [...WIFI, '--transparent']],
  ])('%s %s', async (device, extra) => {
    const r = await nc(['--device', `${device}?pacing=0`, '-q', '1', ...extra, '127.0.0.1', String(echo.port)], 'hello');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello');
    expect(r.code).toBe(0);
  });

  describe('through the emulator behind a socat pty', () => {
    let front: RunningFront;
    beforeAll(async () => {
      front = await startPtyFront(join(mkdtempSync(join(tmpdir(), 'atb-nc-')), 'ttyV0'), { ...DEFAULT_OPTIONS, profile: 'sim7600', pacing: false });
    });
    afterAll(async () => {
      await front.close();
    });
    it.each([[[]], [['--transparent']]])('%s', async (extra) => {
      const r = await nc(['--device', front.address, '--baud', '115200', '-q', '1', ...extra, '127.0.0.1', String(echo.port)], 'over a pty');
      expect(r.stdout).toBe('over a pty');
      expect(r.code).toBe(0);
    });
  });
});

describe('bad input: one line, a fix, a distinct exit code, no stack trace', () => {
  it.each([
    [['--device', 'emu:nokia3310', '127.0.0.1', '1'], 2, 'atbridge: "emu:nokia3310" is not an emulator address; use emu:sim7600, emu:esp-at'],
    [['--device', 'emu:sim7600?speed=9', '127.0.0.1', '1'], 2, 'atbridge: unknown emulator option "speed" in emu:sim7600?speed=9'],
    [['--device', 'ftp://x', '127.0.0.1', '1'], 2, 'atbridge: unknown device scheme in "ftp://x"; use a serial path, tcp://host:port, emu:sim7600 or emu:esp-at'],
    [['--device', 'tcp://localhost', '127.0.0.1', '1'], 2, 'atbridge: "tcp://localhost" is not a TCP device; use tcp://host:port (ser2net raw port)'],
    [['--device', '/dev/ttyNOPE9', '127.0.0.1', '1'], 10, 'atbridge: /dev/ttyNOPE9'],
    [['127.0.0.1', '1'], 2, 'atbridge: no --device given'],
    [['--device', 'emu:sim7600', '127.0.0.1', '70000'], 2, 'atbridge: port must be an integer from 1 to 65535, not "70000"'],
    [['--device', 'emu:sim7600', '--baud', 'fast', '127.0.0.1', '1'], 2, 'atbridge: --baud must be an integer'],
    [['--device', 'emu:esp-at?pacing=0', '--wifi-ssid', 'atbridge-lab', '--wifi-password', 'nope', '127.0.0.1', '1'], 16, 'atbridge: Wi-Fi "atbridge-lab" refused the password (+CWJAP:2)'],
    [['--device', 'emu:sim7600?pacing=0&sim=missing', '127.0.0.1', '1'], 14, 'atbridge: no SIM card'],
    [['--device', 'emu:sim7600?pacing=0', '127.0.0.1', '1'], 20, 'atbridge: could not open TCP 127.0.0.1:1 through the module'],
    [['--device', 'emu:sim7600?pacing=0', '192.0.2.1', '80'], 20, 'atbridge: could not open TCP 192.0.2.1:80 through the module'],
  ] as const)('%j → exit %i', async (args, code, first) => {
    const r = await nc([...args], '');
    expect(r.code).toBe(code);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]!.startsWith(first)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toMatch(/nope/);
  }, 20_000);
});
