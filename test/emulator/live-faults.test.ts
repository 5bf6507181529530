import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEmulatorUrl, parseFaultSpec, parseFaultSpecs, startEmulator, type Fault } from '../../src/emulator/index.js';
import { AtbridgeError } from '../../src/errors.js';
import { openDevice } from '../../src/transport/open-device.js';
import { useEchoServer } from '../helpers/echo-fixture.js';
import { eventually } from '../helpers/echo-server.js';
import { CLI, startEmulateCli } from '../helpers/emulate-cli.js';
import { closeAll, emulator, Terminal } from './support.js';

// Issue 21 item 2: faults while the module runs — inject() from tests, a schedule in the
// options, and `atbridge emulate --control PATH` + `atbridge emulate-ctl PATH FAULT` from outside.
const run = promisify(execFile);

const echo = useEchoServer();
afterEach(closeAll);

describe('fault schedules', () => {
  it('KIND@TIME, every=, times= parse into a schedule; a plain fault is for power-on', () => {
    expect(parseFaultSpec('reboot@30s').schedule).toMatchObject({ fault: { kind: 'reboot' }, atMs: 30_000, times: 1 });
    expect(parseFaultSpec('peer-close@500ms,every=2s,times=3').schedule).toMatchObject({ atMs: 500, everyMs: 2000, times: 3 });
    expect(parseFaultSpec('network-lost,every=1m').schedule).toMatchObject({ atMs: 60_000, everyMs: 60_000, times: Infinity });
    expect(parseFaultSpec('busy:3000@1500').schedule).toMatchObject({ fault: { kind: 'busy', ms: 3000 }, atMs: 1500 });
    expect(parseFaultSpec('silent')).toEqual({ fault: { kind: 'silent' } });
    // In an emu: address every= and times= repeat the fault given just before them.
    const options = parseEmulatorUrl('emu:sim7600?fault=corrupt:0.01&fault=reboot@2s&every=5s&times=4');
    expect(options.faults).toEqual([{ kind: 'corrupt', rate: 0.01 }]);
    expect(options.schedule).toMatchObject([{ fault: { kind: 'reboot' }, atMs: 2000, everyMs: 5000, times: 4 }]);
  });

  it.each(['reboot', 'peer-close', 'network-lost', 'registration-lost', 'unplug', 'clear'])('%s at power-on means nothing: refused with one line', (kind) => {
    const err = (() => {
      try {
        parseFaultSpecs([kind]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AtbridgeError);
    expect((err as AtbridgeError).message).toBe(`fault ${kind} means nothing at power-on (there is no session, socket or network yet)`);
    expect(() => parseEmulatorUrl(`emu:esp-at?fault=${kind}`)).toThrow(/means nothing at power-on/);
    expect(() => parseFaultSpecs([`${kind}@1s`])).not.toThrow();
  });

  it.each([
    ['reboot@soon', /not a duration/],
    ['reboot,every=2', /too short/],
    ['reboot@1s,times=0', /times "0"/],
    ['silent,times=2', /times= but no @TIME or every=/],
    ['reboot,often', /not every=DURATION or times=N/],
    ['peer-close:3', /takes no value/],
  ])('%s is refused', (text, message) => {
    expect(() => parseFaultSpecs([text])).toThrow(message);
  });

  it('a scheduled peer-close closes the open socket while the module runs', async () => {
    // Every 300 ms: whenever the socket is open, the next one closes it (no race with the set-up).
    const options = parseEmulatorUrl('emu:esp-at?pacing=0&fault=peer-close@300ms&every=300ms');
    const { term } = await emulator('esp-at', options);
    await term.command('ATE0');
    await term.command('AT+CWJAP="atbridge-lab","correct horse"');
    expect(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`, /\r\n(OK|ERROR)\r\n/)).toContain('CONNECT');
    await term.until(/\r\nCLOSED\r\n/, 5000);
  });

  it('reboot,every=… reboots again and again, then stops at times=', async () => {
    const options = parseEmulatorUrl('emu:sim7600?pacing=0&fault=reboot@100ms,every=150ms,times=3');
    const emu = startEmulator({ ...options, pacing: false });
    try {
      // Counted from the start: no timer can fire before this line runs.
      let reboots = 0;
      emu.module.on('injected', (fault: Fault) => fault.kind === 'reboot' && reboots++);
      await eventually(() => reboots >= 3, 5000, 'three reboots');
      await new Promise((r) => setTimeout(r, 500));
      expect(reboots).toBe(3);
    } finally {
      await emu.close();
    }
  });
});

describe('inject() on the running module', () => {
  it('answers what it did; reboot:MS is a power loss (nothing heard, input lost) before the banner', async () => {
    const { emu, term } = await emulator('esp-at', { bootMs: 0 });
    expect(emu.inject({ kind: 'peer-close' })).toBe('no socket is open: nothing to close');
    expect(emu.inject({ kind: 'reboot', offMs: 1500 })).toBe('powered off for 1500 ms, then booting');
    await term.type('AT\r');
    await new Promise((r) => setTimeout(r, 100));
    expect(term.heard).toBe('');
    expect(emu.module.booted).toBe(false);
    await term.until(/\r\nready\r\n/, 5000);
    expect(await term.command('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('silent, then clear: the module answers again', async () => {
    const { emu, term } = await emulator('sim7600');
    expect(emu.inject({ kind: 'silent' })).toMatch(/silent/);
    await term.type('AT\r');
    await new Promise((r) => setTimeout(r, 100));
    expect(term.heard).toBe('');
    expect(emu.inject({ kind: 'clear' })).toBe('lasting faults cleared');
    expect(await term.command('AT')).toBe('AT\r\r\nOK\r\n');
  });
});

// ---- from outside: atbridge emulate --control PATH, atbridge emulate-ctl PATH … ----------------

function ctl(path: string, ...requests: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, 'emulate-ctl', path, ...requests], { env: { ...process.env, NO_COLOR: '1' }, timeout: 10_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('atbridge emulate --control PATH / atbridge emulate-ctl', () => {
  it('reboot, peer-close and network-lost reach the running module; status answers; each fault is in the trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-live-'));
    const pty = join(dir, 'ttyV0');
    const control = join(dir, 'emu.ctl');
    const trace = join(dir, 'emu.jsonl');
    const emu = await startEmulateCli(['--profile', 'esp-at', '--pty', pty, '--control', control, '--boot', '0', '--no-pacing', '--rtt', '0', '--trace', trace]);
    const device = await openDevice(pty, { baud: 115200 });
    const term = new Terminal(device.link);
    try {
      await term.command('ATE0');
      await term.command('AT+CWJAP="atbridge-lab","correct horse"');
      expect(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`, /\r\n(OK|ERROR)\r\n/)).toContain('CONNECT');
      expect(JSON.parse((await ctl(control, 'status')).stdout)).toMatchObject({ profile: 'esp-at', booted: true, socket: true });
      term.clear();
      expect(await ctl(control, 'peer-close')).toMatchObject({ code: 0, stdout: 'the peer closed the socket\n' });
      await term.until(/\r\nCLOSED\r\n/);
      term.clear();
      expect((await ctl(control, 'network-lost')).stdout).toBe('the network dropped\n');
      await term.until(/\r\nWIFI DISCONNECT\r\n/);
      term.clear();
      expect(await ctl(control, 'reboot')).toMatchObject({ code: 0, stdout: 'rebooting\n' });
      await term.until(/\r\nready\r\n/);
    } finally {
      await device.close();
      emu.child.kill('SIGTERM');
    }
    expect(await emu.exited).toBe(0);
    // The control socket goes with the emulator.
    expect(existsSync(control)).toBe(false);
    const notes = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dir?: string; data?: string }).filter((e) => e.dir === 'note').map((e) => e.data);
    expect(notes).toEqual(expect.arrayContaining(['fault peer-close: the peer closed the socket', 'fault network-lost: the network dropped', 'fault reboot: rebooting']));
  });

  it('unplug:MS takes the pty away and brings it back at the same path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-live-'));
    const pty = join(dir, 'ttyV0');
    const control = join(dir, 'emu.ctl');
    const emu = await startEmulateCli(['--profile', 'sim7600', '--pty', pty, '--control', control, '--boot', '0', '--no-pacing']);
    try {
      expect((await ctl(control, 'unplug:1500')).stdout).toMatch(/^line unplugged for 1500 ms/);
      await eventually(() => !existsSync(pty), 3000, 'the pty to go');
      await eventually(() => existsSync(pty), 5000, 'the pty to come back');
      const device = await openDevice(pty, { baud: 115200 });
      try {
        expect(await new Terminal(device.link).command('AT')).toBe('AT\r\r\nOK\r\n');
      } finally {
        await device.close();
      }
    } finally {
      emu.child.kill('SIGTERM');
    }
    expect(await emu.exited).toBe(0);
  });

  it('a bad request is one line and exit 2; no emulator at PATH is one line and exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-live-'));
    const control = join(dir, 'emu.ctl');
    const emu = await startEmulateCli(['--profile', 'sim7600', '--listen', '127.0.0.1:0', '--control', control, '--boot', '0', '--no-pacing']);
    try {
      const bad = await ctl(control, 'melt');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^atbridge: melt: emulator option fault="melt" is not valid/);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect((await ctl(control, 'help')).stdout).toMatch(/^faults: reboot/);
      expect((await ctl(control, 'reboot@1s,every=1s,times=2')).stdout).toBe('scheduled reboot@1s,every=1s,times=2\n');
    } finally {
      emu.child.kill('SIGTERM');
    }
    expect(await emu.exited).toBe(0);
    const none = await ctl(join(dir, 'nothing.ctl'), 'reboot');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^atbridge: no emulator listens on /);
    expect(none.stderr).not.toMatch(/\n\s+at /);
  });

  it('--fault reboot at start is refused with one line (exit 2); --fault reboot@… is taken', async () => {
    const r = await run(process.execPath, [CLI, 'emulate', '--profile', 'sim7600', '--listen', '127.0.0.1:0', '--fault', 'reboot'], { env: { ...process.env, NO_COLOR: '1' } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^atbridge: fault reboot means nothing at power-on/);
    const emu = await startEmulateCli(['--profile', 'sim7600', '--listen', '127.0.0.1:0', '--fault', 'reboot@10s', '--boot', '0']);
    emu.child.kill('SIGTERM');
    expect(await emu.exited).toBe(0);
  });
});
