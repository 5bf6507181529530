import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, findDialect, profileOf } from '../../src/emulator/dialects.js';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { getProfile, listProfileIds } from '../../src/profile/index.js';
import { firstGroup } from '../../src/profile/identify-score.js';
import { readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

/**
 * Every shipped family end to end, with real parts: serialport on a socat pty ⇄ the family's
 * emulated module ⇄ real TCP on loopback (an echo server, a real mosquitto).
 * `npm test` runs the fast subset (one mode per family: bring-up, 64 KiB echoed byte-exact, one
 * QoS 1 round trip); `npm run test:families` (ATBRIDGE_FAMILIES=full) runs the whole matrix:
 * every socket and receive mode the profile offers, QoS 0/1/2, each fault recovered.
 */
const FULL = process.env.ATBRIDGE_FAMILIES === 'full';
// Cellular families need the APN (SIM800's CIICR runs only after AT+CSTT; A76xx activates context 1 it defines).
const WIFI = { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse', apn: 'internet' };

interface Mode {
  name: string;
  transparent: boolean;
  recvMode: 'push' | 'buffered';
}

/**
 * The emulator runs as the firmware the profile's own emulator identity names (ESP8266 AT 1.7.4:
 * passive receive came with 1.7), so each mode the profile offers exists on the emulated module.
 */
function firmwareOf(id: string): Record<string, unknown> {
  // A dialect that reads another's profile (sim7000) reports its own firmware by default.
  if (!listProfileIds().includes(id)) return {};
  const p = getProfile(id).data;
  const lines = p.identify.commands.flatMap((c) => p.emulator.identity[c] ?? []);
  const firmware = firstGroup(p.identify.firmware, lines, 'firmware');
  return firmware && p.family === 'wifi' ? { firmware } : {};
}

function modesOf(id: string): Mode[] {
  const p = getProfile(id);
  const modes: Mode[] = p.data.socket.recvModes.map((recvMode) => ({ name: `command/${recvMode}`, transparent: false, recvMode }));
  if ((p.data.socket.modes ?? ['command', 'transparent']).includes('transparent')) modes.push({ name: 'transparent', transparent: true, recvMode: 'push' });
  return FULL ? modes : modes.slice(0, 1);
}

// Every profile, plus every emulated family that reads another's profile (sim7000 → sim7080).
const families = [
  ...listProfileIds().map((id) => ({ id, profile: id, dialect: findDialect(id) })),
  ...DIALECTS.filter((d) => profileOf(d) !== d.id && !listProfileIds().includes(d.id)).map((d) => ({ id: d.id, profile: profileOf(d), dialect: d })),
];

let echo: EchoServer;
let broker: Mosquitto;
beforeAll(async () => {
  echo = await startEchoServer();
  broker = await startMosquitto({ persistence: false });
});
afterAll(async () => {
  await echo?.close();
  await broker?.stop();
});

async function withFront<T>(id: string, extra: string, fn: (front: RunningFront) => Promise<T>): Promise<T> {
  const path = join(mkdtempSync(join(tmpdir(), 'atb-fam-')), 'ttyV0');
  const front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile: id, pacing: false, ...firmwareOf(id), ...parseExtra(extra) });
  try {
    return await fn(front);
  } finally {
    await front.close();
  }
}

function parseExtra(extra: string): Record<string, unknown> {
  return extra ? JSON.parse(extra) : {};
}

async function withSession<T>(front: RunningFront, mode: Mode, fn: (s: OpenedModemSession) => Promise<T>): Promise<T> {
  const session = await openModemSession(
    { device: front.address, profile: 'auto', baud: 115200, transparent: mode.transparent, recvMode: mode.recvMode, ...WIFI },
    { backoff: { baseMs: 50, capMs: 200 } },
  );
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

function closeSocket(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.on('error', () => undefined);
    socket.end();
  });
}

for (const { id, profile, dialect } of families) {
  // A family whose emulator dialect has not landed yet is skipped, with the reason in its name.
  const suite = dialect ? describe : describe.skip;
  const label = dialect ? id : `${id} (skipped: no emulator dialect for "${id}" in src/emulator/dialects.ts yet)`;
  suite(label, () => {
    for (const mode of modesOf(profile)) {
      describe(mode.name, () => {
        it('brings up, identifies the family and echoes 64 KiB byte-exact', async () => {
          await withFront(id, '', async (front) => {
            await withSession(front, mode, async (s) => {
              expect(s.profileId).toBe(profile);
              const socket = await s.connect('127.0.0.1', echo.port);
              const payload = randomBytes(64 * 1024);
              // Bytes that look like AT traffic pass untouched too.
              payload.write('\r\nOK\r\n+IPD,5:\r\nCLOSED\r\n+QIURC: "recv",0\r\n', 100, 'latin1');
              const back = readBytes(socket, payload.length);
              socket.write(payload);
              expect((await back).equals(payload)).toBe(true);
              await closeSocket(socket);
            });
          });
        }, 60_000);

        it(FULL ? 'publishes and receives at QoS 0, 1 and 2 through a real mosquitto' : 'publishes and receives at QoS 1 through a real mosquitto', async () => {
          await withFront(id, '', async (front) => {
            await withSession(front, mode, async (s) => {
              const client = new MqttClient({ connect: () => s.connect(broker.host, broker.port), clientId: `fam-${id}-${Date.now()}`, reconnect: false });
              await client.start();
              try {
                const topic = `families/${id}/${mode.name}`;
                const got: string[] = [];
                client.on('message', (_topic, payload) => got.push(payload.toString()));
                await client.subscribe(topic, { qos: 2 });
                const levels = FULL ? ([0, 1, 2] as const) : ([1] as const);
                for (const qos of levels) await client.publish(topic, `qos${qos}`, { qos });
                await until(() => got.length >= levels.length);
                expect(got.sort()).toEqual(levels.map((q) => `qos${q}`).sort());
              } finally {
                await client.end();
              }
            });
          });
        }, 60_000);
      });
    }

    if (FULL) {
      it.each(['peer-close', 'reboot'] as const)('recovers from %s and connects again', async (kind) => {
        await withFront(id, '', async (front) => {
          await withSession(front, modesOf(profile)[0]!, async (s) => {
            const first = await s.connect('127.0.0.1', echo.port);
            const gone = new Promise<void>((resolve) => first.once('close', () => resolve()));
            first.on('error', () => undefined);
            front.module.inject({ kind });
            await gone;
            const again = await s.connect('127.0.0.1', echo.port);
            const back = readBytes(again, 5);
            again.write('again');
            expect((await back).toString()).toBe('again');
            await closeSocket(again);
          });
        });
      }, 60_000);
    }
  });
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
