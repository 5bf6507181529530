import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, findDialect, profileOf } from '../../src/emulator/dialects.js';
import { DEFAULT_OPTIONS, type Fault } from '../../src/emulator/index.js';
import { runLiveDoctor } from '../../src/doctor/live/run-live.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { getProfile, listProfileIds } from '../../src/profile/index.js';
import { firstGroup } from '../../src/profile/identify-score.js';
import { readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { keys, publisher, watcher, type Tally } from '../bridge/support.js';

/**
 * Every shipped family end to end, with real parts: serialport on a socat pty ⇄ the family's
 * emulated module ⇄ real TCP on loopback (an echo server, a real mosquitto).
 * `npm test` runs the fast subset (one mode per family: bring-up, 64 KiB echoed byte-exact, one
 * QoS 1 round trip); `npm run test:families` (ATBRIDGE_FAMILIES=full) runs the whole matrix:
 * every socket and receive mode the profile offers, QoS 0/1/2, each fault recovered.
 * Per family, `npm test` also runs `atbridge bridge` through it (two real mosquittos, QoS 1 both
 * ways, none lost) and the live doctor; the full run adds the CLI's trace of a `pub` read back by
 * `doctor --log`, `decode` and `replay --emulate`, and every live fault recovered.
 */
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const run = promisify(execFile);
const CLI_ARGS = ['--apn', 'internet', '--wifi-ssid', 'atbridge-lab', '--wifi-password', 'correct horse'];
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

/** The modes the profile offers the firmware the emulated module reports (SIM7000's quirk has no transparent mode). */
function modesOf(id: string, firmware?: string): Mode[] {
  const p = getProfile(id, firmware);
  const modes: Mode[] = p.recvModes.map((recvMode) => ({ name: `command/${recvMode}`, transparent: false, recvMode }));
  if (p.socketModes.includes('transparent')) modes.push({ name: 'transparent', transparent: true, recvMode: 'push' });
  return FULL ? modes : modes.slice(0, 1);
}

// Every profile, plus every emulated family that reads another's profile (sim7000 → sim7080).
const families = [
  ...listProfileIds().map((id) => ({ id, profile: id, dialect: findDialect(id) })),
  ...DIALECTS.filter((d) => profileOf(d) !== d.id && !listProfileIds().includes(d.id)).map((d) => ({ id: d.id, profile: profileOf(d), dialect: d })),
];

let echo: EchoServer;
let broker: Mosquitto;
let remote: Mosquitto;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  echo = await startEchoServer();
  [broker, remote] = await Promise.all([startMosquitto({ persistence: false }), startMosquitto({ persistence: false })]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await echo?.close();
  await Promise.all([broker?.stop(), remote?.stop()]);
});

/** The CLI as a user runs it; its exit code and output, never a throw. */
function atbridge(args: string[], timeout = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** A long-running CLI command (bridge, replay --emulate): its output so far and its exit. */
function started(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.add(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (children.delete(child), resolve(code))));
  return { child, out: () => text, exited };
}

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
    for (const mode of modesOf(profile, dialect?.firmware)) {
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


    // SIM800/SIM7000: AT+CIICR works only after AT+CSTT (IP START), on the real modules too.
    const needsApn = ['sim800', 'sim7000'].includes(id);
    it(needsApn ? 'without --apn: refused at AT+CIICR (it needs AT+CSTT first)' : 'without --apn: comes up on the default context', async () => {
      await withFront(id, '', async (front) => {
        const opening = openModemSession(
          { device: front.address, profile: 'auto', baud: 115200, transparent: false, recvMode: modesOf(profile, dialect?.firmware)[0]!.recvMode, wifiSsid: WIFI.wifiSsid, wifiPassword: WIFI.wifiPassword },
          { backoff: { baseMs: 50, capMs: 200 } },
        );
        if (needsApn) {
          // Both name the failed open and hint at --apn (SIM7000's quirk gives its netOpen role AT+CIICR).
          await expect(opening).rejects.toThrow(/^could not open the data network: AT\+CIICR: ERROR/);
          return;
        }
        const s = await opening;
        try {
          const socket = await s.connect('127.0.0.1', echo.port);
          const back = readBytes(socket, 5);
          socket.write('noapn');
          expect((await back).toString()).toBe('noapn');
          await closeSocket(socket);
        } finally {
          await s.close();
        }
      });
    }, 60_000);

    it('carries QoS 1 both ways through `atbridge bridge`, none lost', async () => {
      const topics = `fam-${id}`;
      const atRemote: Tally = await watcher(remote, [`${topics}/up/#`], 1);
      const atLocal: Tally = await watcher(broker, [`${topics}/down/#`], 1);
      const localPub = await publisher(broker);
      const remotePub = await publisher(remote);
      const bridge = started(['bridge', '--device', `emu:${id}?pacing=0`, '--baud', '115200', ...CLI_ARGS,
        '--local', `mqtt://127.0.0.1:${broker.port}`, '--remote', `mqtt://127.0.0.1:${remote.port}`, '--connection', topics,
        '--queue-dir', mkdtempSync(join(tmpdir(), 'atb-fam-q-')), '--restart-timeout', '0.1 0.5',
        '--topic', `${topics}/up/# out 1`, '--topic', `${topics}/down/# in 1`]);
      try {
        await until(() => /remote connected/.test(bridge.out()), 30_000, () => bridge.out());
        // The bridge subscribes once connected; probes until one comes through each way.
        await untilAsync(async () => {
          await localPub.publish(`${topics}/up/probe`, 'p', { qos: 1 });
          await remotePub.publish(`${topics}/down/probe`, 'p', { qos: 1 });
          return atRemote.count(`${topics}/up/probe p`) > 0 && atLocal.count(`${topics}/down/probe p`) > 0;
        }, 20_000);
        const n = FULL ? 100 : 20;
        const up = keys(`${topics}/up/m`, 'u', n);
        const down = keys(`${topics}/down/m`, 'd', n);
        for (let i = 0; i < n; i++) {
          await localPub.publish(`${topics}/up/m`, `u-${i}`, { qos: 1 });
          await remotePub.publish(`${topics}/down/m`, `d-${i}`, { qos: 1 });
        }
        await until(() => atRemote.check(up).missing === 0 && atLocal.check(down).missing === 0, 30_000).catch(() => undefined);
        expect(atRemote.check(up).missing).toBe(0);
        expect(atLocal.check(down).missing).toBe(0);
        bridge.child.kill('SIGTERM');
        expect(await bridge.exited).toBe(0);
      } finally {
        bridge.child.kill('SIGKILL');
        await Promise.all([localPub.end(), remotePub.end(), atRemote.client.end(), atLocal.client.end()]);
      }
    }, 90_000);

    it('passes every live doctor check (`doctor --device emu:' + id + '`)', async () => {
      const r = await runLiveDoctor({ device: `emu:${id}?pacing=0`, baud: 115200, profile: 'auto', probeTimeoutMs: 120, probes: 1, registrationTimeoutMs: 3000, ...WIFI });
      expect(r.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(r.findings.filter((f) => f.severity === 'error').map((f) => f.id)).toEqual([]);
      expect(r.checks.find((c) => c.name === 'identity')?.detail).toContain(`profile ${profile}`);
      expect(r.checks.map((c) => c.name)).toContain(getProfile(profile).data.family === 'wifi' ? 'wifi' : 'network');
    }, 60_000);

    if (FULL) {
      it('the trace of a CLI `pub` reads back: doctor --log, decode and replay --emulate know the family', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'atb-fam-trace-'));
        const trace = join(dir, `${id}.jsonl`);
        // The client id ends in "at" for esp-at: the writer holds those 2 bytes back (they could begin
        // AT+CWJAP) and must still record them as their own event, apart from the next AT+CIPSEND.
        const pub = ['-h', broker.host, '-p', String(broker.port), '-t', `families/${id}/trace`, '-m', 'traced', '-q', '1', '-i', `fam-trace-${id}`, ...CLI_ARGS];
        const first = await atbridge(['pub', '--device', `emu:${id}?pacing=0`, '--baud', '115200', '--trace', trace, ...pub]);
        expect(first.stderr).toBe('');
        expect(first.code).toBe(0);
        const doctor = await atbridge(['doctor', '--log', trace]);
        expect(doctor.stdout.split('\n')[0]).toMatch(new RegExp(`profile ${profile}$`));
        // No error finding (identification probes the firmware refuses are at most warnings).
        expect(doctor.stdout).not.toMatch(/^error /m);
        expect(doctor.stdout).not.toMatch(/command-rejected/);
        expect(doctor.code).toBe(0);
        const decode = await atbridge(['decode', trace]);
        expect(decode.code).toBe(0);
        expect(decode.stdout).toMatch(/MQTT ⇠ CONNACK/);
        expect(decode.stdout).toMatch(/MQTT ⇠ PUBACK/);
        expect(decode.stdout).toMatch(/MQTT ⇢ CONNECT/);
        expect(decode.stdout).toMatch(/MQTT ⇢ PUBLISH/);
        // replay --emulate acts as the recorded module; the same pub run against it follows the recording.
        const pty = join(dir, 'ttyREC');
        const replay = started(['replay', '--emulate', '--pty', pty, '--speed', '0', '--idle', '2000', trace]);
        try {
          await until(() => /acting as the recorded module/.test(replay.out()), 15_000, () => replay.out());
          const again = await atbridge(['pub', '--device', pty, '--baud', '115200', ...pub]);
          expect(again.code, `${again.stderr}\n${replay.out()}`).toBe(0);
          expect(await replay.exited).toBe(0);
          expect(replay.out()).toMatch(/the host followed the recording/);
        } finally {
          replay.child.kill('SIGKILL');
        }
      }, 90_000);

      const faults: Fault[] = [{ kind: 'network-lost' }, { kind: 'registration-lost', ms: 1500 }, { kind: 'busy', ms: 1000 }];
      it.each(faults.map((f) => [f.kind, f] as const))('recovers from %s and carries data again', async (_kind, fault) => {
        await withFront(id, '', async (front) => {
          await withSession(front, modesOf(profile, dialect?.firmware)[0]!, async (s) => {
            const first = await s.connect('127.0.0.1', echo.port);
            first.on('error', () => undefined);
            let closed = false;
            first.once('close', () => (closed = true));
            expect(front.module.inject(fault)).toBeTruthy();
            // Data flows again: on the same socket when the fault left it up, else on a new one.
            const socket = await untilAsync(async () => {
              const target = closed ? await s.connect('127.0.0.1', echo.port) : first;
              const back = readBytes(target, 5);
              target.write('again');
              return (await withTimeout(back, 3000)).toString() === 'again' ? target : undefined;
            }, 30_000);
            await closeSocket(socket);
          });
        });
      }, 60_000);
    }
    if (FULL) {
      it.each(['peer-close', 'reboot'] as const)('recovers from %s and connects again', async (kind) => {
        await withFront(id, '', async (front) => {
          await withSession(front, modesOf(profile, dialect?.firmware)[0]!, async (s) => {
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

async function until(check: () => boolean, ms = 15_000, context?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting${context ? `: ${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tries `attempt` until it gives a value (a throw counts as not yet). */
async function untilAsync<T>(attempt: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await attempt();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms))]);
}
