import { afterAll, describe, expect, it } from 'vitest';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { eventually, startEchoServer, type EchoServer } from '../helpers/echo-server.js';

/**
 * `--baud-fallback`: on sustained corruption of the line (the emulated wire flips bits at 1 % of
 * bytes), the modem steps module and port down to the next lower rate of the profile's list, and
 * carries on from there at the new rate.
 */
let echo: EchoServer | undefined;
let session: OpenedModemSession | undefined;
afterAll(async () => {
  await session?.close();
  await echo?.close();
});

describe('--baud-fallback', () => {
  it('steps the rate down on sustained corruption and keeps working at the lower rate', async () => {
    echo = await startEchoServer();
    const progress: string[] = [];
    session = await openModemSession(
      { device: 'emu:sim7600?pacing=0', profile: 'sim7600', baud: 115200, baudFallback: true, onProgress: (l) => progress.push(l) },
      { attempts: 20, backoff: { baseMs: 50, capMs: 200 } },
    );
    const { modem, device } = session;
    expect(modem.facts.baud).toBe(115200);
    device.emulator!.inject({ kind: 'corrupt', rate: 0.01 });
    // Traffic until damage is sustained: commands whose lines arrive damaged.
    await eventually(async () => {
      await modem.status().catch(() => undefined);
      const socket = await session!.connect('127.0.0.1', echo!.port).catch(() => undefined);
      socket?.destroy();
      return modem.lineFacts().baudFallbacks >= 1;
    }, 60_000, 'a baud fallback');
    expect(progress.some((l) => /^baud-fallback: stepping the line down from 115200 to \d+ baud$/.test(l))).toBe(true);
    expect(progress.some((l) => /corrupting data.*TLS/.test(l))).toBe(true);
    // The line clears; the next bring-up switches to the lower rate and works there.
    device.emulator!.inject({ kind: 'corrupt', rate: 0 });
    await eventually(async () => {
      const socket = await session!.connect('127.0.0.1', echo!.port).catch(() => undefined);
      if (!socket) return false;
      socket.destroy();
      return true;
    }, 60_000, 'a connection after the fallback');
    expect(modem.facts.baud).toBeLessThan(115200);
    expect(device.link.baud).toBe(modem.facts.baud);
  }, 150_000);
});
