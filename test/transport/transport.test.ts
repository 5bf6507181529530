import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AtbridgeError, ExitCode } from '../../src/errors.js';
import { readTrace } from '../../src/trace/reader.js';
import { TraceWriter } from '../../src/trace/writer.js';
import { Wire } from '../../src/transport/pair-link.js';
import { explainOpenError, SerialLink } from '../../src/transport/serial-link.js';
import { TappedLink } from '../../src/transport/tap.js';
import { TcpLink } from '../../src/transport/tcp-link.js';
import { garble, Pacer } from '../../src/transport/pacer.js';
import { findPortHolders, programName } from '../../src/transport/port-holders.js';
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

  it('a regular file given as the port is wrong-port: "not a serial port", one line', async () => {
    const link = SerialLink.open({ path: '/etc/hostname', baud: 115200 });
    await expect(link).rejects.toMatchObject({ code: 'wrong-port', message: '/etc/hostname is not a serial port' });
  });

  it('a real open without permission is port-permission (exit 11), one line, with the dialout fix', async () => {
    const p = await pty();
    chmodSync(dirname(p.a), 0o755);
    // Root opens anything, so the open is made by an unprivileged child (uid nobody) on the built code.
    const module = resolve('dist/src/transport/serial-link.js');
    const script = `import(${JSON.stringify(module)}).then((m) => m.SerialLink.open({ path: ${JSON.stringify(p.a)}, baud: 115200 }))
      .then(() => console.log('{"opened":true}'), (e) => console.log(JSON.stringify({ code: e.code, exitCode: e.exitCode, message: e.message, fix: e.fix })))`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (!asNobody.uid) chmodSync(p.a, 0o000);
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], asNobody);
    const err = JSON.parse(stdout) as { code: string; exitCode: number; message: string; fix: string };
    expect(err).toMatchObject({ code: 'port-permission', exitCode: ExitCode.portPermission });
    expect(err.message).toBe(`permission denied opening ${p.a}`);
    expect(err.fix).toMatch(/dialout/);
  });

  it('the other end of a pty (socat holding the master) is not a competitor; a second opener is', async () => {
    const p = await pty();
    expect(await findPortHolders(p.a)).toEqual([]);
    const a = await SerialLink.open({ path: p.a, baud: 115200 });
    cleanup.push(() => a.close());
    // This process holds it now; another process asking would be told so.
    const holders = await findPortHolders(p.a, -1);
    expect(holders.map((h) => h.pid)).toEqual([process.pid]);
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

describe('who holds a port, named from its command line', () => {
  it.each([
    [['node', '/opt/app/dist/bin/atbridge.mjs', 'bridge', '--device', '/dev/ttyUSB2'], 'atbridge bridge'],
    [['/usr/bin/node', '--enable-source-maps', '/usr/lib/node_modules/atbridge/dist/bin/atbridge.mjs', 'doctor', '/dev/ttyUSB2'], 'atbridge doctor'],
    [['/usr/sbin/ModemManager'], 'ModemManager'],
    [['/usr/sbin/ModemManager', '--filter-policy=strict'], 'ModemManager'],
    [['minicom', '-D', '/dev/ttyUSB2', '-b', '115200'], 'minicom'],
    [['screen', '/dev/ttyUSB0', '115200'], 'screen'],
    [['/usr/bin/python3', '-m', 'serial.tools.miniterm', '/dev/ttyUSB0', '115200'], 'serial.tools.miniterm'],
    [['/usr/bin/python3', '/usr/local/bin/esptool.py', '--port', '/dev/ttyUSB0', 'read_mac'], 'esptool'],
    [['socat', '-d', 'pty,raw,echo=0', '/dev/ttyUSB0,raw'], 'socat'],
    [['sh', '-c', 'cat /dev/ttyUSB0'], 'sh'],
  ])('%j is %s', (argv, name) => {
    expect(programName([...argv, ''])).toBe(name); // /proc/PID/cmdline ends in a NUL
  });

  it('an empty command line (a kernel thread) falls back to the short name', () => {
    expect(programName([''], 'kworker/0:1')).toBe('kworker/0:1');
  });

  it('a real `node …/dist/bin/atbridge.mjs bridge` holding a pty is reported as "atbridge bridge"', async () => {
    const p = await pty();
    const bin = join(mkdtempSync(join(tmpdir(), 'atb-holder-')), 'dist', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'atbridge.mjs'), "import { openSync } from 'node:fs';\nopenSync(process.argv[4], 'r+');\nconsole.log('held');\nsetTimeout(() => undefined, 30_000);\n");
    const holder = spawn(process.execPath, [join(bin, 'atbridge.mjs'), 'bridge', '--device', p.a], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanup.push(async () => holder.kill('SIGKILL'));
    await new Promise((r) => holder.stdout.once('data', r));
    expect(await findPortHolders(p.a)).toEqual([expect.objectContaining({ pid: holder.pid, name: 'atbridge bridge' })]);
    const err = (await SerialLink.open({ path: p.a, baud: 115200 }).catch((e: unknown) => e)) as AtbridgeError;
    expect(err.code).toBe('port-busy');
    expect(err.message).toContain(`held by atbridge bridge (pid ${holder.pid})`);
  });

  it('a process whose command line is ModemManager (its short name is not) is ModemManager, with the udev fix', async () => {
    const p = await pty();
    // bash opens the pty, then becomes `sleep` under the argv[0] ModemManager's unit starts it with.
    const holder = spawn('bash', ['-c', `exec 3<>"${p.a}"; exec -a /usr/sbin/ModemManager sleep 30`], { stdio: 'ignore' });
    cleanup.push(async () => holder.kill('SIGKILL'));
    await eventually(async () => (await findPortHolders(p.a)).some((h) => h.name === 'ModemManager'), 5000, 'the holder to become ModemManager');
    const err = (await SerialLink.open({ path: p.a, baud: 115200 }).catch((e: unknown) => e)) as AtbridgeError;
    expect(err.message).toContain(`ModemManager (pid ${holder.pid})`);
    expect(err.fix).toMatch(/ID_MM_DEVICE_IGNORE/);
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

describe('TcpLink errors and close', () => {
  it('nobody listening is port-missing (exit 10) with a fix; a local close resolves and marks it closed', async () => {
    const echo = await startEchoServer();
    const port = echo.port;
    const link = await TcpLink.open('127.0.0.1', port);
    expect(link).toMatchObject({ description: `tcp://127.0.0.1:${port}`, baud: undefined, capabilities: { baud: false, dtr: false } });
    const closed = new Promise<void>((r) => link.once('close', () => r()));
    await link.close();
    await closed;
    expect(link.isOpen).toBe(false);
    await expect(link.write(Buffer.from('AT\r'))).rejects.toMatchObject({ code: 'link-closed' });
    await echo.close();
    const err = (await TcpLink.open('127.0.0.1', port).catch((e: unknown) => e)) as AtbridgeError;
    expect(err).toMatchObject({ code: 'port-missing', exitCode: ExitCode.portMissing });
    expect(err.message).toMatch(/^cannot reach tcp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(err.fix).toMatch(/ser2net/);
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

describe('pacer', () => {
  it('line time follows the framing: 10 bits a byte for 8N1, 11 for 8E1', () => {
    const deliver = () => undefined;
    expect(new Pacer({ baud: 9600, enabled: true, deliver }).lineTimeMs(960)).toBe(1000);
    expect(new Pacer({ baud: 9600, bitsPerByte: 11, enabled: true, deliver }).lineTimeMs(960)).toBe(1100);
  });

  it('garbling is deterministic for a seed, never the bytes sent, and scales the count with the rates', () => {
    const sent = Buffer.from('AT+CSQ\r\n'.repeat(8));
    expect(garble(sent, 115200, 9600, 1).equals(garble(sent, 115200, 9600, 1))).toBe(true);
    expect(garble(sent, 115200, 9600, 1).length).toBe(Math.round((sent.length * 9600) / 115200));
    expect(garble(sent, 9600, 115200, 2).length).toBe(sent.length * 12);
    const slow = garble(sent, 9600, 115200, 3);
    expect(slow.includes(Buffer.from('AT'))).toBe(false);
    expect(garble(Buffer.from('A'), 115200, 9600, 4).length).toBe(1);
  });

  it('clear() drops what is queued and resolves the writers, so nobody waits forever', async () => {
    const got: Buffer[] = [];
    const pacer = new Pacer({ baud: 300, enabled: true, deliver: (c) => got.push(c) });
    const pending = pacer.push(Buffer.alloc(3000, 0x41));
    pacer.clear();
    await pending;
    expect(Buffer.concat(got).length).toBeLessThan(3000);
    pacer.close();
  });

  it('a late timer does not slow the line: after a stall the backlog goes at once, in order, never ahead of line time', async () => {
    const got: Buffer[] = [];
    const ahead: number[] = [];
    let total = 0;
    const t0 = performance.now();
    const pacer = new Pacer({
      baud: 115200,
      enabled: true,
      deliver: (c) => {
        got.push(c);
        total += c.length;
        // By now the line can have carried at most this many bytes since they were queued.
        if (total > ((performance.now() - t0) * 11520) / 1000 + 1e-6) ahead.push(total);
      },
    });
    const sent = Buffer.from(Array.from({ length: 1152 }, (_, i) => i % 251)); // 100 ms of line
    const done = pacer.push(sent);
    while (performance.now() - t0 < 60); // the event loop is busy: every timer fires late
    await done;
    const elapsed = performance.now() - t0;
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    // Slices are ~4 ms (46 bytes) when on time; the catch-up slice carries the stalled ~55 ms.
    expect(Math.max(...got.map((c) => c.length))).toBeGreaterThan(400);
    expect(elapsed).toBeGreaterThanOrEqual(pacer.lineTimeMs(sent.length));
    expect(ahead).toEqual([]);
    pacer.close();
  });
});

describe('tap', () => {
  it('a TraceWriter on a TappedLink over a real pty records every byte both ways, binary included', async () => {
    const p = await pty();
    const host = new TappedLink(await SerialLink.open({ path: p.a, baud: 115200 }));
    const module = await SerialLink.open({ path: p.b, baud: 115200 });
    cleanup.push(() => host.close(), () => module.close());
    const path = join(mkdtempSync(join(tmpdir(), 'atb-tap-')), 't.jsonl');
    const writer = new TraceWriter(path);
    host.addTap(writer);
    let seed = 11;
    const random = (n: number) => Buffer.from(Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24)));
    const toModule = [Buffer.from('AT+CSQ\r'), random(3000), Buffer.from('+++')];
    const toHost = [Buffer.from('\r\n+CSQ: 21,99\r\n\r\nOK\r\n'), random(5000)];
    const atModule = readBytes(module as never, 3010);
    const atHost = readBytes(host as never, 5000 + toHost[0]!.length);
    for (const b of toModule) await host.write(b);
    for (const b of toHost) await module.write(b);
    await Promise.all([atModule, atHost]);
    await host.setBaud(57600);
    await writer.close();
    const { events } = await readTrace(path);
    const tx: Buffer[] = [];
    const rx: Buffer[] = [];
    const notes: string[] = [];
    for await (const e of events) {
      if (e.dir === 'tx') tx.push(e.data);
      else if (e.dir === 'rx') rx.push(e.data);
      else notes.push(e.data.toString());
    }
    expect(Buffer.concat(tx).equals(Buffer.concat(toModule))).toBe(true);
    expect(Buffer.concat(rx).equals(Buffer.concat(toHost))).toBe(true);
    expect(notes).toEqual(['baud 57600']);
  });

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
