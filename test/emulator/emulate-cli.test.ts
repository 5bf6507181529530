import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import { AtbridgeError } from '../../src/errors.js';
import { getProfile } from '../../src/profile/index.js';
import { openPtyEnd } from '../../src/replay/pty-end.js';
import type { Link } from '../../src/transport/link.js';
import { openDevice } from '../../src/transport/open-device.js';
import { CLI, startEmulateCli } from '../helpers/emulate-cli.js';

// `atbridge emulate` as a person runs it: one "ready" line, AT over the pty or TCP, stop on SIGTERM.
const run = promisify(execFile);

async function talk(link: Link, profile: 'sim7600' | 'esp-at', command: string): Promise<string[]> {
  const channel = new AtChannel(link, getProfile(profile));
  try {
    await channel.sendOk('AT', { timeoutMs: 3000 });
    return (await channel.sendOk(command, { timeoutMs: 3000 })).lines;
  } finally {
    channel.detach();
  }
}

describe('atbridge emulate', () => {
  it.each(['sim7600', 'esp-at'] as const)('--profile %s --pty: prints exactly "ready PATH", answers AT, traces without the password, stops on SIGTERM', async (profile) => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-cli-'));
    const path = join(dir, 'ttyV0');
    const trace = join(dir, 'emu.jsonl');
    const emu = await startEmulateCli(['--profile', profile, '--pty', path, '--boot', '0', '--no-pacing', '--trace', trace, '--password', 'hunter2-secret']);
    expect(emu.address).toBe(path);
    const device = await openDevice(path, { baud: 115200 });
    try {
      const lines = await talk(device.link, profile, profile === 'sim7600' ? 'ATI' : 'AT+CWJAP="atbridge-lab","hunter2-secret"');
      // The join's WIFI CONNECTED / WIFI GOT IP are URCs to the channel; its OK is the proof.
      if (profile === 'sim7600') expect(lines).toContain('Model: SIMCOM_SIM7600G-H');
    } finally {
      await device.close();
    }
    emu.child.kill('SIGTERM');
    expect(await emu.exited).toBe(0);
    expect(emu.stdout()).toBe(`ready ${path}\n`);
    const events = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ type: 'atbridge-trace', profile });
    expect(events.some((e) => e.dir === 'tx')).toBe(true);
    expect(events.some((e) => e.dir === 'rx')).toBe(true);
    expect(readFileSync(trace, 'utf8')).not.toContain('hunter2-secret');
  });

  it('--listen 127.0.0.1:0 serves the module over raw TCP (ser2net style); --autojoin puts it on the AP from boot', async () => {
    const emu = await startEmulateCli(['--profile', 'esp-at', '--listen', '127.0.0.1:0', '--boot', '0', '--no-pacing', '--autojoin', 'atbridge-lab']);
    const device = await openDevice(`tcp://${emu.address}`, { baud: 115200 });
    try {
      expect((await talk(device.link, 'esp-at', 'AT+GMR'))[0]).toMatch(/^AT version:/);
      expect((await talk(device.link, 'esp-at', 'AT+CWJAP?'))[0]).toMatch(/^\+CWJAP:"atbridge-lab"/);
    } finally {
      await device.close();
      emu.child.kill('SIGINT');
      expect(await emu.exited).toBe(0);
    }
  });

  it.each([
    [['--profile', 'nope', '--pty', '/tmp/x'], /--profile "nope" is not an emulated family; use sim7600, esp-at/],
    [['--profile', 'sim7600'], /exactly one of --pty PATH or --listen HOST:PORT/],
    [['--profile', 'sim7600', '--listen', 'nowhere'], /--listen wants HOST:PORT/],
    [['--profile', 'sim7600', '--listen', '127.0.0.1:0', '--fault', 'melt'], /emulator option fault="melt"/],
    [['--profile', 'sim7600', '--listen', '127.0.0.1:0', '--baud', '12'], /--baud must be an integer/],
    [['--profile', 'sim7600', '--listen', '127.0.0.1:0', '--sim', 'gone'], /--sim must be/],
    [['--profile', 'esp-at', '--listen', '127.0.0.1:0', '--ap', 'nocolon'], /emulator option ap=/],
    [['--profile', 'esp-at', '--listen', '127.0.0.1:0', '--autojoin', 'nowhere'], /autojoin="nowhere" is not an access point it can join/],
  ])('%s is a one-line usage error (exit 2)', async (args, message) => {
    const r = await run(process.execPath, [CLI, 'emulate', ...args], { env: { ...process.env, NO_COLOR: '1' } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => !l.trim().startsWith('fix:'))).toHaveLength(1);
  });

  // socat's link= replaces whatever is at the path and removes it on exit: a mistyped --pty
  // must not delete a file. Only nothing, or a pty link a killed run left behind, may go.
  function runEmulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, [CLI, 'emulate', ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 10_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  }

  it.each([
    ['a file', (path: string) => writeFileSync(path, 'keep\n')],
    ['a directory', (path: string) => mkdirSync(path)],
    ['a symlink to a file', (path: string) => {
      writeFileSync(`${path}.target`, 'keep\n');
      symlinkSync(`${path}.target`, path);
    }],
  ])('--pty PATH where PATH is %s: refused before socat starts (exit 2, one line), PATH left as it was', async (_what, make) => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-cli-'));
    const path = join(dir, 'existing.txt');
    make(path);
    const before = lstatSync(path);
    const r = await runEmulate(['--profile', 'sim7600', '--pty', path, '--boot', '0', '--trace', join(dir, 'emu.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`atbridge: ${path} exists and is not a pty link: not replacing it`);
    expect(r.stderr.trim().split('\n').filter((l) => !l.trim().startsWith('fix:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const after = lstatSync(path);
    expect([after.ino, after.mode]).toEqual([before.ino, before.mode]);
    if (after.isFile()) expect(readFileSync(path, 'utf8')).toBe('keep\n');
    if (after.isSymbolicLink()) expect(readlinkSync(path)).toBe(`${path}.target`);
    // Refused before anything was created: no trace file either.
    expect(existsSync(join(dir, 'emu.jsonl'))).toBe(false);
  });

  it('--pty PATH replaces a stale pty link left by a killed run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-cli-'));
    const path = join(dir, 'ttyV0');
    symlinkSync('/dev/pts/987654', path);
    const emu = await startEmulateCli(['--profile', 'sim7600', '--pty', path, '--boot', '0', '--no-pacing']);
    try {
      expect(emu.address).toBe(path);
      expect(readlinkSync(path)).toMatch(/^\/dev\/pts\/\d+$/);
      expect(readlinkSync(path)).not.toBe('/dev/pts/987654');
    } finally {
      emu.child.kill('SIGTERM');
      expect(await emu.exited).toBe(0);
    }
    // socat removes its link on the way out.
    expect(() => lstatSync(path)).toThrow();
  });

  it('replay --emulate --pty shares the guard: openPtyEnd refuses an existing file and leaves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-cli-'));
    const path = join(dir, 'existing.txt');
    writeFileSync(path, 'keep\n');
    const err = await openPtyEnd(path, 115200).then(
      async (end) => {
        await end.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AtbridgeError);
    expect(err).toMatchObject({ code: 'pty-path-exists', exitCode: 2 });
    expect(readFileSync(path, 'utf8')).toBe('keep\n');
  });
});
