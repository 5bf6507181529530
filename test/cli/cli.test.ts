import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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

  it('a silent module at a fixed rate: each step on stderr while it waits, the rate named once, a --baud auto hint, exit 13', async () => {
    const { code, stderr } = await atbridge('nc', '--device', 'emu:esp-at?pacing=0&fault=silent', '--baud', '9600', '127.0.0.1', '7');
    expect(code).toBe(13);
    const lines = stderr.trim().split('\n');
    const error = lines.findIndex((l) => l.startsWith('atbridge: no answer to AT on'));
    expect(lines[error]).toBe('atbridge: no answer to AT on emu:esp-at at 9600 baud; heard nothing at all');
    expect(lines[error + 1]).toMatch(/^ {2}fix: try --baud auto; /);
    expect(lines.length).toBe(error + 2);
    // Before it, progress lines, so a run of some 20 s does not look like a hang.
    expect(lines.slice(0, error)).toEqual(expect.arrayContaining([expect.stringMatching(/^atbridge: no answer at 9600 baud; trying to leave transparent mode$/), expect.stringMatching(/^atbridge: no answer yet; trying once more in \d+\.\d s/)]));
  }, 60_000);

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
  const file = (name: string, text: string | Buffer) => {
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
    for (const [path, format] of [[file('empty.txt', ''), 'transcript'], [file('blank.txt', '\n \n'), 'transcript'], [file('header-only.jsonl', '{"type":"atbridge-trace","version":1,"tool":"atbridge 0.1.0","start":"2026-11-23T00:00:00.000Z"}\n'), 'jsonl']] as const) {
      for (const args of [['decode', path], ['doctor', '--log', path]]) {
        const { code, stdout, stderr } = await atbridge(...args);
        expect(code).toBe(23);
        expect(stdout).toBe('');
        expect(stderr.trim().split('\n')).toEqual([`atbridge: no AT traffic found in ${path} (read as ${format})`]);
      }
    }
  });

  it('garbage, a JSONL whose header broke, a Markdown page and a program listing hold no AT traffic: one line, exit 23, for decode, doctor --log and replay (which writes nothing)', async () => {
    const garbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 251));
    const cases = [
      [file('garbage.bin', garbage), 'raw'],
      [file('broken.jsonl', '{"type":"atbridge-trace","vers\n{"t":1,"dir":"tx","data":"AT\\r"}\n{"t":2,"dir":"rx","da\n'), 'transcript'],
      [file('page.md', '# My project\n\nThis is the README of my project. It has no module traffic at all.\n\n## Install\n\n- run the installer\n- and then you are done\n'), 'transcript'],
      [file('sketch.ino', 'void setup() {\n  SerialAT.begin(115200);\n  SerialAT.println("AT+CSQ");\n}\n'), 'transcript'],
    ] as const;
    for (const [path, format] of cases) {
      for (const args of [['decode', path], ['doctor', '--log', path], ['replay', path, '--to', 'emu:sim7600']]) {
        const { code, stdout, stderr } = await atbridge(...args);
        expect(code, args.join(' ')).toBe(23);
        expect(stdout).toBe('');
        expect(stderr.trim().split('\n')).toEqual([`atbridge: no AT traffic found in ${path} (read as ${format})`]);
      }
      expect(existsSync(`${path}.replay.jsonl`), 'replay wrote no trace next to a refused input').toBe(false);
    }
  });

  it('traffic after a library label or inside a post is still read (not refused)', async () => {
    for (const text of ['9306.467 [GSM]:  => AT\n9306.468 [GSM]:     <= OK\n', 'I am stuck at:\n```\n06:37:04.740 > bgxx: >> AT+QMTOPEN=0,"broker",8883\n06:37:05.157 > bgxx: << +QMTOPEN: 0,-1\n```\n', 'AT\nOK\n']) {
      const { code, stderr } = await atbridge('decode', file('log.txt', text));
      expect(stderr).toBe('');
      expect(code).toBe(0);
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
