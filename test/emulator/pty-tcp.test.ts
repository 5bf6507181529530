import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { openModemSession } from '../../src/modem/session.js';
import { startEchoServer, readBytes, type EchoServer } from '../helpers/echo-server.js';

// The whole path with real parts: serialport on a socat pty ⇄ emulated module ⇄ real TCP echo server.
let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

const cases = [
  { profile: 'sim7600' as const, transparent: false },
  { profile: 'sim7600' as const, transparent: true },
  { profile: 'esp-at' as const, transparent: false },
  { profile: 'esp-at' as const, transparent: true },
];

describe.each(cases)('$profile over a real pty, transparent=$transparent', ({ profile, transparent }) => {
  let front: RunningFront;
  beforeAll(async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'atb-')), 'ttyV0');
    front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile, pacing: false });
  });
  afterAll(async () => {
    await front.close();
  });

  it('carries bytes to a real TCP server and back, byte-exact', async () => {
    const session = await openModemSession({
      device: front.address,
      profile: 'auto',
      baud: 115200,
      transparent,
      wifiSsid: 'atbridge-lab',
      wifiPassword: 'correct horse',
    });
    try {
      expect(session.profileId).toBe(profile);
      const socket = await session.connect('127.0.0.1', echo.port);
      const payload = randomBytes(20_000);
      // Bytes that look like AT traffic must pass untouched too.
      payload.write('\r\nOK\r\n+IPD,5:\r\nCLOSED\r\n', 100, 'latin1');
      const back = readBytes(socket, payload.length);
      socket.write(payload);
      expect((await back).equals(payload)).toBe(true);
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      });
      expect(front.module.socket).toBeUndefined();
    } finally {
      await session.close();
    }
  });
});
