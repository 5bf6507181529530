import { spawn, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveDoctor, type LiveDoctorOptions } from '../../src/doctor/live/run-live.js';
import { hasError } from '../../src/doctor/findings.js';
import { openPtyPair, type PtyPair } from '../helpers/pty.js';

const FAST = { probeTimeoutMs: 120, probes: 1, registrationTimeoutMs: 3000 } as const;

async function doctor(device: string, extra: Partial<LiveDoctorOptions> = {}) {
  const r = await runLiveDoctor({ device, baud: 115200, profile: 'auto', ...FAST, ...extra });
  return { ...r, ids: r.findings.map((f) => f.id), errors: r.findings.filter((f) => f.severity === 'error').map((f) => f.id) };
}

describe('live doctor against the emulator', () => {
  it('a healthy SIM7600 passes every check', async () => {
    const r = await doctor('emu:sim7600?pacing=0');
    expect(r.checks.map((c) => `${c.name}:${c.status}`)).toEqual(['baud:pass', 'echo:pass', 'identity:pass', 'sim:pass', 'signal:pass', 'registration:pass', 'network:pass', 'tcp:skip']);
    expect(hasError(r.findings)).toBe(false);
  });

  it('a healthy ESP-AT joins Wi-Fi', async () => {
    const r = await doctor('emu:esp-at?pacing=0', { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' });
    expect(r.checks.find((c) => c.name === 'wifi')?.status).toBe('pass');
    expect(hasError(r.findings)).toBe(false);
    // It asked AT+CWJAP? before joining and heard "No AP": that is why it joined, not a drop.
    expect(r.ids).not.toContain('wifi-disconnected');
  });

  it('wrong baud: baud-mismatch, and the rate it does answer at', async () => {
    const r = await doctor('emu:sim7600?pacing=0&baud=57600');
    expect(r.ids).toContain('baud-mismatch');
    expect(r.findings.find((f) => f.id === 'baud-mismatch')!.summary).toContain('57600');
  });

  it('stuck in transparent mode: stuck-transparent, then the checks go on', async () => {
    const r = await doctor('emu:esp-at?pacing=0&fault=stuck-transparent', { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' });
    expect(r.ids).toContain('stuck-transparent');
    expect(r.checks.find((c) => c.name === 'identity')?.status).toBe('pass');
  });

  it('a dead module: no-response', async () => {
    const r = await doctor('emu:esp-at?pacing=0&fault=silent');
    expect(r.errors).toEqual(['no-response']);
  });

  it('no SIM: sim-missing', async () => {
    const r = await doctor('emu:sim7600?pacing=0&sim=missing');
    expect(r.errors).toContain('sim-missing');
  });

  it('SIM PIN without --pin: sim-pin-required; with the PIN: ready', async () => {
    expect((await doctor('emu:sim7600?pacing=0&sim=pin')).errors).toContain('sim-pin-required');
    expect(hasError((await doctor('emu:sim7600?pacing=0&sim=pin', { pin: '1234' })).findings)).toBe(false);
  });

  it('wrong Wi-Fi password: wifi-wrong-password, the password never shown', async () => {
    const r = await doctor('emu:esp-at?pacing=0', { wifiSsid: 'atbridge-lab', wifiPassword: 'hunter22' });
    expect(r.errors).toContain('wifi-wrong-password');
    expect(JSON.stringify(r.findings)).not.toContain('hunter22');
  });

  it('a busy module: module-busy', async () => {
    const r = await doctor('emu:esp-at?pacing=0&fault=busy:600', { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' });
    expect(r.ids).toContain('module-busy');
  });

  it('busy, late or lost OKs are command mode, never stuck-transparent', async () => {
    const busy = await doctor('emu:esp-at?pacing=0&fault=busy:1500', { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' });
    expect(busy.ids).toContain('module-busy');
    for (const fault of ['delay-final:1500', 'drop-final:2']) {
      const r = await doctor(`emu:sim7600?pacing=0&fault=${fault}`);
      expect(r.ids, fault).not.toContain('stuck-transparent');
      expect(r.findings.find((f) => f.id === 'no-response'), fault).toMatchObject({ severity: 'warning' });
      expect(r.checks.find((c) => c.name === 'identity')?.status, fault).toBe('pass');
    }
  });

  it('an echo and OK read after the probe gave up are command mode, not stuck-transparent', async () => {
    // The host reads the module's bytes 300 ms late for the first second (a loaded host whose
    // probe timer runs before the read): the 120 ms probe gives up before its echo is read.
    const started = Date.now();
    const r = await doctor('emu:sim7600?pacing=0', {
      onOpened: (device) => {
        const link = device.link as unknown as EventEmitter;
        const emit = link.emit.bind(link);
        link.emit = (event: string | symbol, ...args: unknown[]) => {
          if (event !== 'data' || Date.now() - started > 1000) return emit(event, ...args);
          setTimeout(() => emit(event, ...args), 300);
          return true;
        };
      },
    });
    expect(r.ids).not.toContain('stuck-transparent');
    expect(r.findings.find((f) => f.id === 'no-response')).toMatchObject({ severity: 'warning' });
    expect(r.checks.find((c) => c.name === 'identity')?.status).toBe('pass');
  });

  it('a module found by the scan at another rate than the usual: baud-mismatch as a warning', async () => {
    const r = await doctor('emu:sim7600?pacing=0&fault=wrong-baud:9600', { baud: 'auto', probes: 2, probeTimeoutMs: 500 });
    expect(r.findings.find((f) => f.id === 'baud-mismatch')).toMatchObject({ severity: 'warning', fix: expect.stringContaining('--baud 9600') });
    expect(r.checks.find((c) => c.name === 'identity')?.status).toBe('pass');
  });

  it('a line that garbles bytes: the doctor says line-corruption, never "no problems", and puts no control byte in a check line', async () => {
    const r = await doctor('emu:sim7600?pacing=0&fault=corrupt:0.05', { registrationTimeoutMs: 1000 });
    expect(r.ids).toContain('line-corruption');
    for (const c of r.checks) expect(c.detail, c.name).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it('a test TCP connect that is refused: socket-open-failed', async () => {
    const r = await doctor('emu:sim7600?pacing=0', { tcp: { host: '127.0.0.1', port: 1 } });
    expect(r.errors).toContain('socket-open-failed');
  });
});

describe('live doctor: reboot', () => {
  it('finds module-rebooted when the module restarts mid-run', async () => {
    let inject: (() => void) | undefined;
    const r = await runLiveDoctor({
      device: 'emu:sim7600?pacing=0',
      baud: 115200,
      profile: 'auto',
      ...FAST,
      onOpened: (device) => {
        inject = () => device.emulator?.inject({ kind: 'reboot' });
      },
      afterCheck: async (name) => {
        if (name === 'signal') {
          inject?.();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
    });
    expect(r.findings.map((f) => f.id)).toContain('module-rebooted');
  });
});

describe('live doctor: a port held by another process', () => {
  let pty: PtyPair;
  let holder: ChildProcess;
  beforeAll(async () => {
    pty = await openPtyPair();
    holder = spawn('sleep', ['30'], { stdio: [openSync(pty.a, 'r+'), 'ignore', 'ignore'] });
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  afterAll(async () => {
    holder.kill('SIGKILL');
    await pty.close();
  });

  it('port-busy, naming the holder', async () => {
    const r = await doctor(pty.a);
    expect(r.errors).toEqual(['port-busy']);
    expect(r.findings[0]!.summary).toMatch(/sleep \(pid \d+\)/);
  });

  it('port-missing for a path that does not exist', async () => {
    expect((await doctor('/dev/ttyNOPE42')).errors).toEqual(['port-missing']);
  });
});
