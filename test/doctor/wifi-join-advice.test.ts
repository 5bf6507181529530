import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../src/profile/index.js';
import { CLI, startEmulateCli, type RunningEmulator } from '../helpers/emulate-cli.js';
import { tempFile } from '../decode/helpers.js';

interface Report { checks: { name: string; status: string; detail: string }[]; findings: { id: string; summary: string; fix: string }[] }

function doctor(args: string[]): Report {
  const run = spawnSync(process.execPath, [CLI, 'doctor', ...args, '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
  return JSON.parse(run.stdout) as Report;
}

const esp = getProfile('esp-at');

describe('a Wi-Fi join failure: its kind and its fix are the profile\'s joinFailures (ESP-AT manual: 1-4, others unknown)', () => {
  it('real logs: +CWJAP:1 (espat_34) and +CWJAP:2 (Logic 2 capture)', () => {
    const timeout = doctor(['--log', '/work/shared/reference/logs/espat_34_aithinker-invalid-mem-check-fail-cwjap1-fail.txt']).findings.find((f) => f.id === 'wifi-join-timeout');
    expect(timeout?.fix).toBe(esp.joinFailure('1')!.fix);
    const wrong = doctor(['--log', 'fixtures/captures/logic2-esp-at-cwjap-wrong-password.csv']).findings.find((f) => f.id === 'wifi-wrong-password');
    expect(wrong?.fix).toBe(esp.joinFailure('2')!.fix);
  });

  it('a code the manual does not list (+CWJAP:7) is a failed join with the profile\'s fix for other codes', () => {
    const log = tempFile('cwjap7.txt', 'AT+CWJAP="lab","x"\r\nWIFI DISCONNECT\r\n+CWJAP:7\r\n\r\nERROR\r\n');
    const f = doctor(['--log', log, '--profile', 'esp-at']).findings.find((x) => x.id.startsWith('wifi-'));
    expect(f?.id).toBe('wifi-join-failed');
    expect(f?.fix).toBe(esp.joinFailure('*')!.fix);
    expect(esp.joinFailure('3')!.kind).toBe('ap-not-found');
    expect(getProfile('esp8266-at1').joinFailure('3')!.kind).toBe('ap-not-found');
  });
});

describe('live doctor against atbridge emulate (ESP-AT) on a socat pty', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    if (emu && emu.child.exitCode === null) {
      emu.child.kill('SIGTERM');
      await emu.exited;
    }
    emu = undefined;
  });

  it('an AP that never answers: wifi-join-timeout with the profile\'s fix', async () => {
    const pty = join(mkdtempSync(join(tmpdir(), 'atb-wifi-')), 'esp');
    emu = await startEmulateCli(['--profile', 'esp-at', '--pty', pty, '--unreachable', 'far-ap']);
    const r = doctor(['--device', emu.address, '--wifi-ssid', 'far-ap', '--wifi-password', 'whatever1']);
    const f = r.findings.find((x) => x.id === 'wifi-join-timeout');
    expect(f?.fix).toBe(esp.joinFailure('1')!.fix);
  }, 60_000);

  it('already joined: says so, the password not needed, no finding', async () => {
    const pty = join(mkdtempSync(join(tmpdir(), 'atb-wifi-')), 'esp');
    emu = await startEmulateCli(['--profile', 'esp-at', '--pty', pty, '--autojoin', 'atbridge-lab']);
    for (const args of [['--wifi-ssid', 'atbridge-lab', '--wifi-password', 'not the password'], ['--wifi-password', 'not the password']]) {
      const r = doctor(['--device', emu.address, ...args]);
      const wifi = r.checks.find((c) => c.name === 'wifi')!;
      expect(wifi.status).toBe('pass');
      expect(wifi.detail).toMatch(/^joined to "atbridge-lab" \(RSSI -?\d+ dBm\); password not needed \(already joined\), so not checked$/);
      expect(r.findings.filter((f) => f.id.startsWith('wifi-'))).toEqual([]);
    }
  }, 60_000);
});
