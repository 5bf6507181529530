import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const atbridge = (...args: string[]) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('atbridge CLI', () => {
  it('--help lists the commands', async () => {
    const { code, stdout } = await atbridge('--help');
    expect(code).toBe(0);
    for (const name of ['demo', 'pub', 'sub', 'bridge', 'nc', 'doctor', 'ports', 'decode', 'replay', 'emulate']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    }
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await atbridge('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown top-level option is one line and exit code 2', async () => {
    const { code, stderr } = await atbridge('--bogus');
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(["atbridge: unknown option '--bogus'"]);
  });

  it('a missing device is one line, a fix, and the port-missing exit code (10)', async () => {
    const { code, stderr } = await atbridge('nc', '--device', '/dev/ttyATBRIDGE-NOPE', '--baud', '115200', '--profile', 'sim7600', 'example.com', '80');
    expect(code).toBe(10);
    expect(stderr.trim().split('\n')).toEqual([
      'atbridge: /dev/ttyATBRIDGE-NOPE does not exist',
      expect.stringMatching(/^ {2}fix: /),
    ]);
  });

  it('an unknown firmware profile is a usage error (exit 2) naming the ones there are', async () => {
    const { code, stderr } = await atbridge('nc', '--device', '/dev/ttyATBRIDGE-NOPE', '--profile', 'nosuch', 'example.com', '80');
    expect(code).toBe(2);
    expect(stderr).toMatch(/no firmware profile "nosuch"/);
    expect(stderr).toMatch(/esp-at, .*sim7600/);
  });

  it('an unknown option is one line and exit code 2', async () => {
    const { code, stderr } = await atbridge('nc', '--no-such-option');
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^atbridge: unknown option '--no-such-option'/);
  });

  it('a mistyped emulator address for doctor is a usage error (exit 2), not a module finding', async () => {
    const { code, stdout, stderr } = await atbridge('doctor', '--device', 'emu:esp-at?fault=wrong-baud');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^atbridge: emulator option fault="wrong-baud" is not valid/)]);
  });

  it('doctor --trace records the live run (password masked) for doctor --log; --profile takes a profile file', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'atb-doctor-')), 'run.jsonl');
    const live = await atbridge('doctor', '--device', 'emu:esp-at?pacing=0&fault=stuck-transparent', '--profile', './firmware-profiles/esp-at.json',
      '--wifi-ssid', 'atbridge-lab', '--wifi-password', 'correct horse', '--trace', trace);
    expect(live.code).toBe(1);
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(trace, 'utf8');
    expect(text).toContain('AT+CWJAP=');
    expect(text).not.toContain('correct horse');
    const offline = await atbridge('doctor', '--log', trace);
    expect(offline.stdout).toMatch(/profile esp-at/);
    // The same conclusion from the bytes alone: silence to AT, then "+++", then answers.
    expect(offline.stdout).toMatch(/error stuck-transparent: the module answered nothing until "\+\+\+" \(2 commands/);
    expect(offline.stdout).not.toMatch(/escape-failed/);
    expect(offline.code).toBe(1);
    const both = await atbridge('doctor', '--log', trace, '--trace', trace);
    expect(both.code).toBe(2);
  });

  it('a command loaded on its own still has its help, and `help CMD` works too', async () => {
    for (const args of [['decode', '--help'], ['help', 'decode']]) {
      const { code, stdout } = await atbridge(...args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: atbridge decode \[options\] <file>/);
    }
  });

  it('an unknown command suggests the nearest one', async () => {
    const { code, stderr } = await atbridge('emulat');
    expect(code).toBe(2);
    expect(stderr).toMatch(/emulate/);
  });
});

describe('atbridge decode input checks', () => {
  const file = (name: string, text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'atb-cli-')), name);
    writeFileSync(path, text);
    return path;
  };

  it('--direction other than rx, tx or merged is one usage line, exit code 2', async () => {
    const { code, stdout, stderr } = await atbridge('decode', file('dump.raw', 'AT\r\nOK\r\n'), '--format', 'raw', '--direction', 'up');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual(['atbridge: --direction must be one of rx, tx, merged, not "up"']);
  });

  it('an empty capture is one line saying so, with the bad-input exit code (23), for decode and doctor --log', async () => {
    for (const path of [file('empty.txt', ''), file('blank.txt', '\n \n'), file('header-only.jsonl', '{"type":"atbridge-trace","version":1,"tool":"atbridge 0.1.0","start":"2026-11-23T00:00:00.000Z"}\n')]) {
      for (const args of [['decode', path], ['doctor', '--log', path]]) {
        const { code, stdout, stderr } = await atbridge(...args);
        expect(code).toBe(23);
        expect(stdout).toBe('');
        expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^atbridge: ${path} is an empty capture \\(`))]);
      }
    }
  });

  it('decode --help names what --profile takes, and takes what the unknown-profile error suggests', async () => {
    const help = (await atbridge('decode', '--help')).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--profile <id> firmware profile: [a-z0-9, -]*esp-at, [a-z0-9, -]*sim7600, [a-z0-9, -]*auto \(guessed from the content, the default\) or a path to a profile JSON file/);
    const { code, stderr } = await atbridge('decode', file('s.txt', 'AT\nOK\n'), '--profile', 'bogus');
    expect(code).toBe(2);
    expect(stderr).toMatch(/fix: use one of: [a-z0-9, -]*esp-at, [a-z0-9, -]*sim7600, [a-z0-9, -]*auto, or a path to a profile JSON file/);
    const auto = await atbridge('decode', file('s.txt', 'AT\nOK\n'), '--profile', 'auto');
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/profile \S+ \(guessed\)/);
  });
});
