import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtbridgeError, ExitCode } from '../../src/errors.js';
import { readTrace } from '../../src/trace/reader.js';
import { TraceWriter } from '../../src/trace/writer.js';
import { Wire } from '../../src/transport/pair-link.js';
import { explainOpenError, SerialLink } from '../../src/transport/serial-link.js';
import { TappedLink } from '../../src/transport/tap.js';
import { TcpLink } from '../../src/transport/tcp-link.js';
import { eventually, readBytes, startEchoServer } from '../helpers/echo-server.js';
import { openPtyPair, type PtyPair } from '../helpers/pty.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function pty(): Promise<PtyPair> {
  const p = await openPtyPair();
  cleanup.push(() => p.close());
  return p;
}

describe('SerialLink over a real pty', () => {
  it('carries bytes both ways and changes the rate on the open port', async () => {
    const p = await pty();
    const a = await SerialLink.open({ path: p.a, baud: 115200 });
    const b = await SerialLink.open({ path: p.b, baud: 115200 });
    cleanup.push(() => a.close(), () => b.close());
    const atB = readBytes(b as never, 4);
    await a.write(Buffer.from('AT\r\n'));
    expect((await atB).toString()).toBe('AT\r\n');
    await a.setBaud(9600);
    expect(a.baud).toBe(9600);
    const atA = readBytes(a as never, 6);
    await b.write(Buffer.from('\r\nOK\r\n'));
    expect((await atA).toString()).toBe('\r\nOK\r\n');
  });

  it('a missing device is port-missing (exit 10) with one line and a fix', async () => {
    const err = (await SerialLink.open({ path: '/dev/ttyDOES-NOT-EXIST', baud: 115200 }).catch((e: unknown) => e)) as AtbridgeError;
    expect(err).toBeInstanceOf(AtbridgeError);
    expect(err.code).toBe('port-missing');
    expect(err.exitCode).toBe(ExitCode.portMissing);
    expect(err.message).not.toContain('\n');
    expect(err.fix).toBeTruthy();
  });

  it('no permission is port-permission (exit 11) and names the dialout group', async () => {
    const err = await explainOpenError('/dev/ttyUSB2', new Error('Error: Permission denied, cannot open /dev/ttyUSB2'));
    expect(err.code).toBe('port-permission');
    expect(err.exitCode).toBe(ExitCode.portPermission);
    expect(err.fix).toMatch(/dialout/);
  });

  it('a port another process holds is port-busy (exit 12), naming the process', async () => {
    const p = await pty();
    const holder = spawn('bash', ['-c', `exec 3<>"${p.a}"; echo held; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanup.push(async () => holder.kill('SIGKILL'));
    await new Promise((r) => holder.stdout.once('data', r));
    const err = (await SerialLink.open({ path: p.a, baud: 115200 }).catch((e: unknown) => e)) as AtbridgeError;
    expect(err.code).toBe('port-busy');
    expect(err.exitCode).toBe(ExitCode.portBusy);
    expect(err.message).toMatch(new RegExp(`sleep|bash`));
    expect(err.message).toContain(String(holder.pid));
  });
});

describe('TcpLink (ser2net raw mode)', () => {
  it('carries bytes both ways and reports the close', async () => {
    const echo = await startEchoServer();
    cleanup.push(() => echo.close());
    const link = await TcpLink.open('127.0.0.1', echo.port);
    const back = readBytes(link as never, 5);
    await link.write(Buffer.from('AT\r\n\0'));
    expect((await back).equals(Buffer.from('AT\r\n\0'))).toBe(true);
    const closed = new Promise<void>((r) => link.once('close', () => r()));
    echo.dropClients();
    await closed;
    expect(link.isOpen).toBe(false);
  });
});

describe('in-process wire', () => {
  it('counts the bytes that cross, and garbles them when the two ends run at different rates', async () => {
    const wire = new Wire({ baud: 115200, pacing: false });
    const got: Buffer[] = [];
    wire.module.on('data', (c) => got.push(c));
    await wire.host.write(Buffer.from('AT\r'));
    await eventually(() => Buffer.concat(got).length === 3, 2000, 'bytes');
    expect(Buffer.concat(got).toString()).toBe('AT\r');
    expect(wire.bytesToModule).toBe(3);
    wire.module.setBaud(9600);
    got.length = 0;
    await wire.host.write(Buffer.from('AT+CSQ\r'));
    await eventually(() => got.length > 0, 2000, 'garbage');
    expect(Buffer.concat(got).toString('latin1')).not.toBe('AT+CSQ\r');
    await wire.host.close();
  });

  it('with pacing on, bytes arrive in line-time slices, in order, none lost', async () => {
    const wire = new Wire({ baud: 9600, pacing: true });
    const got: Buffer[] = [];
    wire.module.on('data', (c) => got.push(c));
    const payload = Buffer.alloc(960, 0x55);
    await wire.host.write(payload);
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    expect(got.length).toBeGreaterThan(1); // delivered in line-time slices, not at once
    await wire.host.close();
  });
});

describe('tap', () => {
  it('a TraceWriter on a TappedLink records every byte both ways and the notes', async () => {
    const wire = new Wire({ baud: 115200, pacing: false });
    const link = new TappedLink(wire.host);
    const path = join(mkdtempSync(join(tmpdir(), 'atb-tap-')), 't.jsonl');
    const writer = new TraceWriter(path);
    link.addTap(writer);
    wire.module.on('data', (c) => void wire.module.write(Buffer.concat([Buffer.from('echo:'), c])));
    const back = readBytes(link as never, 8);
    await link.write(Buffer.from('AT\r'));
    await back;
    link.note('state sync → identify: ok');
    await writer.close();
    const { events } = await readTrace(path);
    const seen: string[] = [];
    for await (const e of events) seen.push(`${e.dir}:${e.data.toString()}`);
    expect(seen).toEqual(['tx:AT\r', 'rx:echo:AT\r', 'note:state sync → identify: ok']);
    expect(readFileSync(path, 'utf8').split('\n')[0]).toContain('atbridge-trace');
    await wire.host.close();
  });
});
