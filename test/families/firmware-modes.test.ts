import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { getProfile } from '../../src/profile/index.js';
import type { Tap } from '../../src/transport/tap.js';
import { readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';

/**
 * Socket and receive modes are a fact of the firmware, read off the profile with its quirks
 * applied: ESP8266 NonOS AT before 1.7 only pushes (+IPD), SIM7080 switches a CA socket to
 * transparent mode with AT+CASWITCH, SIM7000's CIPSTART dialect offers command mode only.
 * Real parts: serialport on a socat pty ⇄ the emulated module ⇄ real TCP on loopback.
 */
const WIFI = { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse', apn: 'internet' };

let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo?.close();
});

async function withFront<T>(profile: string, extra: Record<string, unknown>, fn: (front: RunningFront) => Promise<T>): Promise<T> {
  const path = join(mkdtempSync(join(tmpdir(), 'atb-fw-')), 'ttyV0');
  const front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile, pacing: false, ...extra });
  try {
    return await fn(front);
  } finally {
    await front.close();
  }
}

/** What the host sent, as text. */
function sentText(): { tap: Tap; text: () => string } {
  let text = '';
  return { tap: { tx: (d) => (text += d.toString('latin1')), rx: () => undefined }, text: () => text };
}

function closeSocket(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.on('error', () => undefined);
    socket.end();
  });
}

async function echoes(s: OpenedModemSession, bytes: number): Promise<void> {
  const socket = await s.connect('127.0.0.1', echo.port);
  const payload = randomBytes(bytes);
  const back = readBytes(socket, payload.length);
  socket.write(payload);
  expect((await back).equals(payload)).toBe(true);
  await closeSocket(socket);
}

describe('modes per firmware, from the profile', () => {
  it('esp8266-at1: passive receive from AT 1.7.0 on; before it, push only', () => {
    expect(getProfile('esp8266-at1', '1.7.4.0').recvModes).toEqual(['push', 'buffered']);
    expect(getProfile('esp8266-at1', '1.6.2.0').recvModes).toEqual(['push']);
    expect(getProfile('esp8266-at1', '1.6.2.0').recvModeFor('buffered')).toBe('push');
    expect(getProfile('esp8266-at1', '1.7.4.0').recvModeFor('buffered')).toBe('buffered');
  });

  it('sim7080 offers transparent mode (AT+CASWITCH); its SIM7000 quirk does not', () => {
    expect(getProfile('sim7080').socketModes).toEqual(['command', 'transparent']);
    expect(getProfile('sim7080').command('transparentEnter').send).toBe('AT+CASWITCH={link},1');
    expect(getProfile('sim7080', '1351B04SIM7000E').socketModes).toEqual(['command']);
  });

  it('esp8266-at1 1.6: asked for buffered receive, runs push (said once, AT+CIPRECVMODE never sent) and echoes byte-exact', async () => {
    await withFront('esp8266-at1', { firmware: '1.6.2.0' }, async (front) => {
      const sent = sentText();
      const progress: string[] = [];
      const s = await openModemSession(
        { device: front.address, profile: 'auto', baud: 115200, recvMode: 'buffered', onProgress: (m) => progress.push(m), ...WIFI },
        { backoff: { baseMs: 50, capMs: 200 }, taps: [sent.tap] },
      );
      try {
        expect(s.profileId).toBe('esp8266-at1');
        await echoes(s, 16 * 1024);
        expect(progress.filter((m) => /has no buffered receive/.test(m))).toHaveLength(1);
        expect(sent.text()).not.toMatch(/CIPRECVMODE/);
      } finally {
        await s.close();
      }
    });
  }, 60_000);

  it('esp8266-at1 1.7: buffered receive runs as asked', async () => {
    await withFront('esp8266-at1', { firmware: '1.7.4.0' }, async (front) => {
      const sent = sentText();
      const s = await openModemSession(
        { device: front.address, profile: 'auto', baud: 115200, recvMode: 'buffered', ...WIFI },
        { backoff: { baseMs: 50, capMs: 200 }, taps: [sent.tap] },
      );
      try {
        await echoes(s, 16 * 1024);
        expect(sent.text()).toMatch(/AT\+CIPRECVMODE=1\r/);
      } finally {
        await s.close();
      }
    });
  }, 60_000);

  it('sim7080: transparent mode over AT+CASWITCH, 64 KiB echoed byte-exact, twice', async () => {
    await withFront('sim7080', {}, async (front) => {
      const sent = sentText();
      const s = await openModemSession(
        { device: front.address, profile: 'auto', baud: 115200, transparent: true, ...WIFI },
        { backoff: { baseMs: 50, capMs: 200 }, taps: [sent.tap] },
      );
      try {
        expect(s.profileId).toBe('sim7080');
        await echoes(s, 64 * 1024);
        await echoes(s, 4 * 1024);
        expect(sent.text().match(/AT\+CASWITCH=0,1\r/g)).toHaveLength(2);
      } finally {
        await s.close();
      }
    });
  }, 60_000);

  it('sim7080: the peer closing in transparent mode ends the socket (CLOSED), and the next CASWITCH connection works', async () => {
    // The client speaks first (as MQTT does); the server answers and hangs up.
    const server = createServer((sock) => sock.once('data', () => sock.end('bye')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      await withFront('sim7080', {}, async (front) => {
        const s = await openModemSession({ device: front.address, profile: 'auto', baud: 115200, transparent: true, ...WIFI }, { backoff: { baseMs: 50, capMs: 200 } });
        try {
          const socket = await s.connect('127.0.0.1', port);
          socket.on('error', () => undefined);
          const got = readBytes(socket, 3);
          const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
          socket.write('hi');
          expect((await got).toString()).toBe('bye');
          await closed;
          await echoes(s, 4 * 1024);
        } finally {
          await s.close();
        }
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('sim7000: --transparent is refused in one line (its CIPSTART dialect has no transparent mode here)', async () => {
    await withFront('sim7000', {}, async (front) => {
      const opening = openModemSession(
        { device: front.address, profile: 'auto', baud: 115200, transparent: true, ...WIFI },
        { backoff: { baseMs: 50, capMs: 200 } },
      );
      await expect(opening).rejects.toThrow(/^sim7080 \(firmware [^)]*SIM7000[^)]*\) has no transparent mode; run without --transparent$/);
    });
  }, 60_000);
});
