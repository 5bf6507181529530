import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import { AtbridgeError, ExitCode } from '../../src/errors.js';
import { escapeDataMode } from '../../src/modem/escape.js';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { getProfile } from '../../src/profile/index.js';
import type { ModemSocket } from '../../src/socket/modem-socket.js';
import { openDevice } from '../../src/transport/open-device.js';
import { eventually, readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';

const WIFI = { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' };
let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

function tracePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'atb-trace-')), 'trace.jsonl');
}

function notes(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { dir?: string; data?: string })
    .filter((e) => e.dir === 'note')
    .map((e) => e.data ?? '');
}

function states(path: string): string[] {
  return notes(path)
    .map((n) => /^state \S+ → (\S+):/.exec(n)?.[1])
    .filter((s): s is string => s !== undefined);
}

function closed(socket: Duplex): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    socket.on('error', (err) => (error = err));
    socket.once('close', () => resolve(error));
  });
}

async function withSession<T>(device: string, options: Partial<Parameters<typeof openModemSession>[0]>, fn: (s: OpenedModemSession) => Promise<T>): Promise<T> {
  const session = await openModemSession({ device, profile: 'auto', baud: 115200, ...WIFI, ...options }, { backoff: { baseMs: 50, capMs: 200 } });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

describe('states', () => {
  it('cellular: every bring-up and socket state, in order, in the trace', async () => {
    const trace = tracePath();
    await withSession('emu:sim7600?pacing=0', { trace, baud: 'auto' }, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      socket.end();
      await gone;
    });
    expect(states(trace)).toEqual(['detect-baud', 'sync', 'identify', 'init', 'attach', 'ready', 'socket-opening', 'socket-command', 'socket-closing', 'ready', 'closed']);
  });

  it('Wi-Fi with transparent mode: join and socket-transparent', async () => {
    const trace = tracePath();
    await withSession('emu:esp-at?pacing=0', { trace, transparent: true }, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      socket.end();
      await gone;
    });
    expect(states(trace)).toEqual(['sync', 'identify', 'init', 'join', 'ready', 'socket-opening', 'socket-transparent', 'socket-closing', 'ready', 'closed']);
    expect(notes(trace).some((n) => n.includes("escape: module answered AT after '+++'"))).toBe(true);
  });
});

describe('random payloads echoed byte-identical (1 MiB in push and transparent modes)', () => {
  const big = randomBytes(1024 * 1024);
  it.each([
    ['sim7600', false, 'push'],
    ['sim7600', true, 'push'],
    ['sim7600', false, 'buffered'],
    ['esp-at', false, 'push'],
    ['esp-at', true, 'push'],
    ['esp-at', false, 'buffered'],
  ] as const)('%s transparent=%s recv=%s', async (family, transparent, recvMode) => {
    // Buffered mode reads 1.5–2 KiB per AT round trip: 64 KiB shows it is exact without a minute of commands.
    const payload = recvMode === 'buffered' ? big.subarray(0, 64 * 1024) : big;
    await withSession(`emu:${family}?pacing=0`, { transparent, recvMode }, async (s) => {
      const socket = (await s.connect('127.0.0.1', echo.port)) as ModemSocket;
      const back = readBytes(socket, payload.length, 60_000);
      socket.write(payload);
      expect((await back).equals(payload)).toBe(true);
      if (!transparent) {
        // Coalescing: far fewer AT+CIPSEND calls than writes would need at one per write.
        expect(socket.sends).toBeLessThanOrEqual(Math.ceil(payload.length / s.modem.currentProfile!.maxSend) + 1);
      }
      const gone = closed(socket);
      socket.end();
      await gone;
    });
  }, 90_000);
});

describe('baud', () => {
  it('--baud auto finds a module at another rate without sending a rate-changing command', async () => {
    const trace = tracePath();
    await withSession('emu:esp-at?pacing=0&baud=57600', { trace, baud: 'auto' }, async (s) => {
      expect(s.modem.facts.baud).toBe(57600);
      const socket = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(socket, 5);
      socket.write('hello');
      expect((await back).toString()).toBe('hello');
      socket.destroy();
    });
    const lines = readFileSync(trace, 'utf8');
    expect(lines).not.toMatch(/UART_CUR=|UART_DEF=/);
    expect(notes(trace).some((n) => /no OK to AT at 115200 baud \(\d+ bytes heard\)/.test(n))).toBe(true);
  }, 30_000);

  it('--set-baud switches the module and the port together and confirms with AT', async () => {
    await withSession('emu:sim7600?pacing=0', { setBaud: 921600 }, async (s) => {
      expect(s.modem.facts.baud).toBe(921600);
      expect(s.device.link.baud).toBe(921600);
      expect(s.device.emulator!.wire.module.baud).toBe(921600);
      const socket = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(socket, 2);
      socket.write('ok');
      expect((await back).toString()).toBe('ok');
      socket.destroy();
    });
  });
});

describe('profile auto-detect and firmware quirks', () => {
  it.each([
    ['3.3.0.0', 'AT+CIPRECVTYPE=1', 8192],
    ['2.2.0.0', 'AT+CIPRECVMODE=1', 8192],
    ['1.7.4.0', 'AT+CIPRECVMODE=1', 2048],
  ])('ESP-AT %s: buffered receive with %s, sends up to %i bytes', async (firmware, recvCommand, maxSend) => {
    const trace = tracePath();
    await withSession(`emu:${firmware.startsWith('1.') ? 'esp8266-at1' : 'esp-at'}?pacing=0&firmware=${firmware}`, { trace, recvMode: 'buffered' }, async (s) => {
      // ESP8266 NonOS AT 1.x has its own profile (its _CUR/_DEF commands); 2.x and later are esp-at.
      expect(s.profileId).toBe(firmware.startsWith('1.') ? 'esp8266-at1' : 'esp-at');
      expect(s.modem.facts.firmware).toBe(firmware);
      expect(s.modem.currentProfile!.maxSend).toBe(maxSend);
      const socket = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(socket, 6);
      socket.write('quirky');
      expect((await back).toString()).toBe('quirky');
      socket.destroy();
    });
    const tx = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('"dir":"tx"')).join('\n');
    expect(tx).toContain(recvCommand);
  });
});

describe('transparent mode', () => {
  it('a module left in passthrough by a crashed program is detected and recovered', async () => {
    const progress: string[] = [];
    await withSession('emu:esp-at?pacing=0&fault=stuck-transparent', { onProgress: (m) => progress.push(m) }, async (s) => {
      expect(progress).toContain('the module was left in transparent mode; recovered it');
      const socket = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(socket, 3);
      socket.write('abc');
      expect((await back).toString()).toBe('abc');
      socket.destroy();
    });
  }, 30_000);

  it('the escape ladder ends in escape-failed with the evidence when nothing answers', async () => {
    const device = await openDevice('emu:esp-at?pacing=0&fault=silent', { baud: 115200 });
    const channel = new AtChannel(device.link, getProfile('esp-at'));
    const rungs: string[] = [];
    channel.enterDataMode();
    try {
      const err = await escapeDataMode(channel, getProfile('esp-at'), { note: (t) => rungs.push(t), probeTimeoutMs: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtbridgeError);
      expect((err as AtbridgeError).code).toBe('escape-failed');
      expect((err as AtbridgeError).exitCode).toBe(ExitCode.escapeFailed);
      expect((err as AtbridgeError).message).toMatch(/#1: no OK.*#2: no OK.*DTR drop: no OK/);
      expect(rungs).toEqual(expect.arrayContaining(["escape: '+++' attempt 1 (guard 20/20 ms)", "escape: '+++' attempt 2 (guard 20/20 ms)", 'escape: dropping DTR']));
    } finally {
      channel.detach();
      await device.close();
    }
  }, 20_000);

  it('a peer close in transparent mode ends the socket cleanly and the module is usable again', async () => {
    await withSession('emu:sim7600?pacing=0', { transparent: true }, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const ended = new Promise<void>((r) => socket.once('end', () => r()));
      socket.resume();
      const gone = closed(socket);
      await eventually(() => s.device.emulator!.module.socket !== undefined, 5000, 'module socket');
      s.device.emulator!.inject({ kind: 'peer-close' });
      await ended;
      expect(await gone).toBeUndefined();
      await eventually(() => s.modem.state === 'ready', 5000, 'ready');
      const again = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(again, 4);
      again.write('more');
      expect((await back).toString()).toBe('more');
      again.destroy();
    });
  });
});

describe('recovery', () => {
  it.each(['sim7600', 'esp-at'] as const)('%s: a reboot mid-session fails the socket with module-rebooted; the next connect brings it back', async (family) => {
    await withSession(`emu:${family}?pacing=0`, {}, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      s.device.emulator!.inject({ kind: 'reboot' });
      const err = await gone;
      expect((err as AtbridgeError | undefined)?.code).toBe('module-rebooted');
      const again = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(again, 5);
      again.write('again');
      expect((await back).toString()).toBe('again');
      expect(s.modem.facts.recoveries).toBe(1);
      again.destroy();
    });
  });

  it.each([
    ['sim7600', 'network-closed'],
    ['esp-at', 'wifi-disconnected'],
  ] as const)('%s: network loss fails the socket with %s and the network is re-established', async (family, code) => {
    await withSession(`emu:${family}?pacing=0`, {}, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      s.device.emulator!.inject({ kind: 'network-lost' });
      expect(((await gone) as AtbridgeError | undefined)?.code).toBe(code);
      const again = await s.connect('127.0.0.1', echo.port);
      const back = readBytes(again, 2);
      again.write('up');
      expect((await back).toString()).toBe('up');
      again.destroy();
    });
  });

  it('a peer close in command mode ends the socket without an error', async () => {
    await withSession('emu:esp-at?pacing=0', {}, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      await eventually(() => echo.connections > 0 && s.device.emulator!.module.socket !== undefined, 5000, 'connected');
      s.device.emulator!.inject({ kind: 'peer-close' });
      expect(await gone).toBeUndefined();
      await eventually(() => s.modem.state === 'ready', 5000, 'ready');
    });
  });

  it('registration loss is noted and the next connect re-runs bring-up', async () => {
    const trace = tracePath();
    await withSession('emu:sim7600?pacing=0', { trace }, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      s.device.emulator!.module.urc('+CREG: 2');
      await eventually(() => notes(trace).some((n) => n.startsWith('registration lost: +CREG: 2')), 5000, 'note');
      socket.destroy();
      await eventually(() => s.modem.state === 'ready', 5000, 'ready');
      const again = await s.connect('127.0.0.1', echo.port);
      again.destroy();
    });
    expect(states(trace).filter((st) => st === 'identify')).toHaveLength(2);
  });

  it('busy p... at bring-up is retried until the module is free', async () => {
    await withSession('emu:esp-at?pacing=0&fault=busy:1200', {}, async (s) => {
      expect(s.modem.state).toBe('ready');
    });
  });

  it('a dropped final result times out one command; bring-up retries and succeeds', async () => {
    await withSession('emu:sim7600?pacing=0&fault=drop-final:1', {}, async (s) => {
      expect(s.modem.state).toBe('ready');
    });
  });

  it('ten command timeouts in a row report the module dead and fail the socket', async () => {
    await withSession('emu:esp-at?pacing=0', {}, async (s) => {
      const socket = await s.connect('127.0.0.1', echo.port);
      const gone = closed(socket);
      s.device.emulator!.inject({ kind: 'silent' });
      for (let i = 0; i < 10; i++) await s.modem.channel.send('AT', { timeoutMs: 30 }).catch(() => undefined);
      const err = (await gone) as AtbridgeError | undefined;
      expect(err?.code).toBe('module-dead');
      expect(err?.exitCode).toBe(ExitCode.moduleDead);
      expect(s.modem.state).toBe('dead');
    });
  });

  it('a silent module fails bring-up with no-response and the rates it tried', async () => {
    const err = await openModemSession({ device: 'emu:esp-at?pacing=0&fault=silent', baud: 115200 }, { attempts: 1 }).catch((e: unknown) => e);
    expect((err as AtbridgeError).code).toBe('no-response');
    expect((err as AtbridgeError).exitCode).toBe(ExitCode.noResponse);
    expect((err as AtbridgeError).message).toMatch(/no answer to AT on emu:esp-at at 115200 baud; heard nothing at all/);
  }, 20_000);
});

describe('faults a person must fix fail at once with their own exit code', () => {
  it.each([
    ['emu:sim7600?pacing=0&sim=missing', {}, 'sim-missing', ExitCode.simMissing],
    ['emu:sim7600?pacing=0&sim=pin', {}, 'sim-pin-required', ExitCode.simPin],
    ['emu:sim7600?pacing=0&sim=pin&pin=1111', { pin: '2222' }, 'sim-pin-wrong', ExitCode.simPin],
    ['emu:esp-at?pacing=0', { wifiPassword: 'wrong' }, 'wifi-wrong-password', ExitCode.wifiAuth],
    ['emu:esp-at?pacing=0', { wifiSsid: 'elsewhere' }, 'wifi-ap-not-found', ExitCode.wifiNotFound],
  ] as const)('%s → %s', async (device, extra, code, exitCode) => {
    const err = await openModemSession({ device, baud: 115200, ...WIFI, ...extra }).catch((e: unknown) => e);
    expect((err as AtbridgeError).code).toBe(code);
    expect((err as AtbridgeError).exitCode).toBe(exitCode);
  });

  it('the SIM PIN unlocks a locked SIM', async () => {
    await withSession('emu:sim7600?pacing=0&sim=pin&pin=4321', { pin: '4321' }, async (s) => {
      expect(s.modem.facts.cellular?.sim).toBe('READY');
    });
  });

  it('registration that takes a while is waited for, with progress', async () => {
    const progress: string[] = [];
    const session = await openModemSession(
      { device: 'emu:sim7600?pacing=0&register=600', baud: 115200, onProgress: (m) => progress.push(m) },
      { registrationPollMs: 100 },
    );
    await session.close();
    expect(progress.some((p) => /searching/.test(p))).toBe(true);
    expect(progress.some((p) => /registered/.test(p))).toBe(true);
  });
});
