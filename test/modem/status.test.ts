import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';

// status() on a real pty (socat + serialport) to the emulated SIM7600 bridged to a real echo server.
let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo?.close();
});

async function withSession(fn: (s: OpenedModemSession, front: RunningFront) => Promise<void>): Promise<void> {
  const path = join(mkdtempSync(join(tmpdir(), 'atb-status-')), 'ttyV0');
  // Registered at once: bring-up then never reads the signal (it explains a wait only), status() must.
  const front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile: 'sim7600', pacing: false, registerAfterMs: 0 });
  try {
    const s = await openModemSession({ device: front.address, profile: 'auto', baud: 115200, transparent: false, recvMode: 'buffered', apn: 'internet' });
    try {
      await fn(s, front);
    } finally {
      await s.close();
    }
  } finally {
    await front.close();
  }
}

describe('status() while a connection is open through the module', () => {
  it('waits for the send in flight instead of skipping: the first status has the signal and registration', async () => {
    await withSession(async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const payload = randomBytes(16 * 1024);
      const back = readBytes(socket, payload.length);
      socket.write(payload); // AT+CIPSEND pieces are in flight from here
      const status = (await s.status()) as { state: string; cellular?: { rssi?: number; registration: Record<string, string> } };
      expect(status.state).toBe('socket-command');
      expect(status.cellular?.rssi).toEqual(expect.any(Number));
      expect(Object.values(status.cellular?.registration ?? {})).toContain('1');
      expect((await back).equals(payload)).toBe(true);
      socket.destroy();
    });
  }, 60_000);

  it('re-reads registration: a module that lost it reports it in the next status', async () => {
    await withSession(async (s, front) => {
      const before = (await s.status()) as { cellular?: { registration: Record<string, string> } };
      expect(Object.values(before.cellular?.registration ?? {})).toContain('1');
      front.module.inject({ kind: 'registration-lost', ms: 30_000 });
      const after = (await s.status()) as { state: string; cellular?: { registration: Record<string, string> } };
      expect(after.state).toBe('ready');
      expect(Object.values(after.cellular?.registration ?? {})).not.toContain('1');
    });
  }, 60_000);
});
