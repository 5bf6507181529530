// The emulator inside your own vitest test: a virtual SIM7600 on a pty, a fault injected while
// the session runs, and the driver's reaction checked. Copy this into your project's test/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModemSession, type ModemSession } from 'atbridge';
import { startEmulator, type RunningEmulator } from 'atbridge/emulator';

describe('my gateway against an emulated SIM7600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'my-gateway-'));
  let emulator: RunningEmulator;
  let session: ModemSession;

  beforeAll(async () => {
    emulator = await startEmulator({ profile: 'sim7600', pty: join(dir, 'ttyMODEM'), pacing: false });
    session = await openModemSession({ device: emulator.device, apn: 'internet' });
  });

  afterAll(async () => {
    await session?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings the module up and reports it registered', async () => {
    const status = await session.status();
    expect(status.profile).toBe('sim7600');
    expect(status.state).toBe('ready');
    expect(status.cellular?.sim).toBe('READY');
  });

  it('sees a module reboot as a fault', async () => {
    const fault = new Promise<string>((resolve) => session.once('fault', (err) => resolve(err.code)));
    // A fault now (`inject('reboot')`) or on a schedule, written as the CLI's --fault takes it.
    expect(emulator.inject('reboot@100ms')).toBe('reboot scheduled in 100 ms');
    expect(await fault).toBe('module-rebooted');
  });
});
