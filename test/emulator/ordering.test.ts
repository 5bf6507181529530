import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice, type OpenedDevice } from '../../src/transport/open-device.js';
import { eventually, startEchoServer, type EchoServer } from '../helpers/echo-server.js';
import { Terminal } from './support.js';

// Issue 14 item 3: ordering as on the real module, through a real pty (`atbridge emulate --pty`).
// The reply to sent data never comes before the send's confirmation, whatever the round trip;
// input before the boot banner is lost, as on the module (its UART is not up yet).
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const run = promisify(execFile);

let echo: EchoServer;
/** Answers each chunk once, then closes: the reply and the peer's close both race the confirmation. */
let replyAndClose: { port: number; close(): Promise<void> };
beforeAll(async () => {
  echo = await startEchoServer();
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', (chunk) => s.end(chunk));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  replyAndClose = { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
});
afterAll(async () => {
  await echo.close();
  await replyAndClose.close();
});

interface Emu {
  child: ChildProcess;
  device: OpenedDevice;
  term: Terminal;
  control: string;
  stop(): Promise<void>;
}

async function emulate(args: string[]): Promise<Emu> {
  const dir = mkdtempSync(join(tmpdir(), 'atb-order-'));
  const pty = join(dir, 'ttyV0');
  const control = join(dir, 'emu.ctl');
  const child = spawn(process.execPath, [CLI, 'emulate', '--pty', pty, '--control', control, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line')), 10_000);
    child.stdout!.on('data', () => /^ready /.test(stdout) && (clearTimeout(timer), resolve()));
    void exited.then((code) => reject(new Error(`exited ${code}`)));
  });
  const device = await openDevice(pty, { baud: 115200 });
  const term = new Terminal(device.link);
  return {
    child,
    device,
    term,
    control,
    async stop() {
      await device.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function espConnected(port: number, extra: string[] = []): Promise<Emu> {
  const emu = await emulate(['--profile', 'esp-at', '--boot', '0', '--rtt', '0', ...extra]);
  await emu.term.command('ATE0');
  await emu.term.command('AT+CWJAP="atbridge-lab","correct horse"');
  expect(await emu.term.command(`AT+CIPSTART="TCP","127.0.0.1",${port}`, /\r\n(OK|ERROR)\r\n/)).toContain('CONNECT');
  return emu;
}

async function simConnected(port: number, rxget: boolean): Promise<Emu> {
  const emu = await emulate(['--profile', 'sim7600', '--boot', '0', '--rtt', '0', '--register', '0']);
  await emu.term.command('ATE0');
  if (rxget) await emu.term.command('AT+CIPRXGET=1');
  await emu.term.command('AT+NETOPEN');
  await emu.term.until(/\+NETOPEN: 0\r\n/);
  await emu.term.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${port}`);
  await emu.term.until(/\+CIPOPEN: 0,0\r\n/);
  return emu;
}

/** Sends `data` with the '>' prompt and waits for `until` in what follows. */
async function send(emu: Emu, command: string, data: Buffer, until: RegExp): Promise<string> {
  emu.term.clear();
  await emu.term.type(`${command}\r`);
  await emu.term.until(/>/);
  await emu.term.type(data);
  await emu.term.until(until, 10_000);
  return emu.term.heard;
}

describe('the reply to sent data comes after the send is confirmed (--rtt 0, the worst case)', () => {
  it('esp-at: SEND OK before +IPD, for a small send and for an 8192-byte one (three +IPD)', async () => {
    const emu = await espConnected(echo.port);
    try {
      const small = await send(emu, 'AT+CIPSEND=5', Buffer.from('hello'), /\+IPD,5:hello/);
      expect(small.indexOf('SEND OK')).toBeGreaterThan(0);
      expect(small.indexOf('SEND OK')).toBeLessThan(small.indexOf('+IPD'));
      const big = Buffer.alloc(8192, 0x61);
      const heard = await send(emu, 'AT+CIPSEND=8192', big, /SEND OK/);
      // All 8192 bytes back ('a' appears in no word the module says).
      await eventually(() => (emu.term.heard.match(/a/g) ?? []).length === 8192, 10_000, 'the whole echo');
      const ipd = [...emu.term.heard.matchAll(/\+IPD,(\d+):/g)];
      expect(ipd.map((m) => Number(m[1])).reduce((a, b) => a + b, 0)).toBe(8192);
      expect(ipd.length).toBeGreaterThanOrEqual(3);
      expect(heard.indexOf('SEND OK')).toBeLessThan(ipd[0]!.index);
    } finally {
      await emu.stop();
    }
  });

  it('esp-at passive receive: SEND OK before the +IPD,<len> notice', async () => {
    const emu = await espConnected(echo.port, []);
    try {
      await emu.term.command('AT+CIPRECVMODE=1');
      const heard = await send(emu, 'AT+CIPSEND=4', Buffer.from('ping'), /\+IPD,4\r\n/);
      expect(heard.indexOf('SEND OK')).toBeLessThan(heard.indexOf('+IPD,4'));
    } finally {
      await emu.stop();
    }
  });

  it('esp-at: a peer that answers and closes: SEND OK, then +IPD, then CLOSED', async () => {
    const emu = await espConnected(replyAndClose.port);
    try {
      const heard = await send(emu, 'AT+CIPSEND=3', Buffer.from('bye'), /CLOSED\r\n/);
      const order = ['SEND OK', '+IPD,3:bye', 'CLOSED'].map((w) => heard.indexOf(w));
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      await emu.stop();
    }
  });

  it('sim7600 buffered receive: +CIPSEND: 0,n,n before +CIPRXGET: 1,0', async () => {
    const emu = await simConnected(echo.port, true);
    try {
      const heard = await send(emu, 'AT+CIPSEND=0,40', Buffer.alloc(40, 0x62), /\+CIPRXGET: 1,0\r\n/);
      expect(heard.indexOf('+CIPSEND: 0,40,40')).toBeGreaterThan(0);
      expect(heard.indexOf('+CIPSEND: 0,40,40')).toBeLessThan(heard.indexOf('+CIPRXGET: 1,0'));
    } finally {
      await emu.stop();
    }
  });

  it('sim7600 push receive: +CIPSEND: 0,n,n before RECV FROM / +IPD', async () => {
    const emu = await simConnected(replyAndClose.port, false);
    try {
      const heard = await send(emu, 'AT+CIPSEND=0,5', Buffer.from('hello'), /\+IPCLOSE: 0,1\r\n/);
      const order = ['+CIPSEND: 0,5,5', 'RECV FROM', '+IPD5', '+IPCLOSE: 0,1'].map((w) => heard.indexOf(w));
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      await emu.stop();
    }
  });
});

describe('before the boot banner', () => {
  it.each([
    ['sim7600', /\r\nRDY\r\n/],
    ['esp-at', /\r\nready\r\n/],
  ] as const)('%s: a command typed before the banner is lost (no echo, no answer); the next one is answered', async (profile, banner) => {
    // Long enough that the test's AT surely goes before the banner, even on a loaded machine.
    const emu = await emulate(['--profile', profile, '--boot', '2500']);
    try {
      await emu.term.type('AT\r');
      await emu.term.until(banner, 8000);
      await new Promise((r) => setTimeout(r, 100));
      // Only the banner (and, for SIM7600, its SIM lines): no echo of the lost AT, no OK for it.
      expect(emu.term.heard).not.toMatch(/AT\r|OK/);
      expect(await emu.term.command('AT')).toBe('AT\r\r\nOK\r\n');
    } finally {
      await emu.stop();
    }
  });
});

describe('the network round trip of atbridge emulate', () => {
  it.each([
    ['sim7600', [], 60],
    ['esp-at', [], 20],
    ['esp-at', ['--rtt', '0'], 0],
  ] as const)('%s %j: %i ms', async (profile, extra, rtt) => {
    const emu = await emulate(['--profile', profile, '--boot', '0', ...extra]);
    try {
      const { stdout } = await run(process.execPath, [CLI, 'emulate-ctl', emu.control, 'status']);
      expect(JSON.parse(stdout)).toMatchObject({ rttMs: rtt });
    } finally {
      await emu.stop();
    }
  });
});
