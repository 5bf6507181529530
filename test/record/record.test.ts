import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { openPtyPair, type PtyPair } from '../helpers/pty.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
// Debian's python3-serial is installed for the system interpreter.
const PYTHON = '/usr/bin/python3';

/** Deterministic bytes covering every value (a fixed-seed LCG), so the test is the same each run. */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i < 256 ? i : x >>> 24;
  }
  return out;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startRecord(args: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'record', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`record exited ${code}: ${stderr}`)));
  });
  return { child, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

async function events(path: string): Promise<TraceEvent[]> {
  const all: TraceEvent[] = [];
  for await (const e of (await readTrace(path)).events) all.push(e);
  return all;
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('atbridge record (a real pty program through it)', () => {
  it('forwards python-serial both ways byte for byte, follows its baud and framing changes, and traces every byte', async () => {
    const pair: PtyPair = await openPtyPair();
    cleanups.push(() => pair.close());
    const dir = mkdtempSync(join(tmpdir(), 'atb-rec-'));
    const pty = join(dir, 'ttyMODEM');
    const trace = join(dir, 'rec.jsonl');
    // The "real port" is one end of a pty pair; the module side is the other end.
    const modem = new SerialPort({ path: pair.b, baudRate: 115200 });
    await new Promise<void>((r) => modem.once('open', () => r()));
    cleanups.push(() => new Promise<void>((r) => (modem.isOpen ? modem.close(() => r()) : r())));
    const sent = bytes(8192, 7);
    const reply = bytes(6000, 11);
    let received = Buffer.alloc(0);
    modem.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (received.length === sent.length) modem.write(reply);
    });
    const { child, stderr } = await startRecord(['--device', pair.a, '--pty', pty, '--baud', '115200', '--trace', trace]);

    writeFileSync(join(dir, 'sent.bin'), sent);
    const script = `
import serial, sys, time
dir = sys.argv[1]
s = serial.Serial(dir + '/ttyMODEM', 115200, timeout=10)
s.write(open(dir + '/sent.bin', 'rb').read())
got = s.read(${reply.length})
open(dir + '/got.bin', 'wb').write(got)
s.baudrate = 57600
# A Linux pty keeps 8 data bits without parity (the kernel refuses others); stop bits and RTS/CTS it keeps.
s.stopbits = 2
s.rtscts = True
# wait until the test has seen the change in the trace and says go
if s.read(2) != b'GO':
    sys.exit(3)
s.write(b'AT\\r')
s.flush()
time.sleep(0.2)
s.close()
`;
    writeFileSync(join(dir, 'talk.py'), script);
    const python = spawn(PYTHON, [join(dir, 'talk.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let pyErr = '';
    python.stderr!.on('data', (d: Buffer) => (pyErr += d.toString()));
    const pyExit = new Promise<number | null>((r) => python.once('exit', (code) => r(code)));
    await waitFor(() => existsSync(trace) && readFileSync(trace, 'utf8').includes('"baud 57600"') && readFileSync(trace, 'utf8').includes('"framing 8N2 RTS/CTS"') && stderr().includes('reopened as 8N2 RTS/CTS'), 'the baud and framing changes applied');
    modem.write(Buffer.from('GO'));
    await waitFor(() => received.length >= sent.length + 3, 'AT after the baud change');
    expect(await pyExit, pyErr).toBe(0);
    expect(await stop(child)).toBe(0);

    expect(received.subarray(0, sent.length).equals(sent)).toBe(true);
    expect(received.subarray(sent.length).toString('latin1')).toBe('AT\r');
    expect(readFileSync(join(dir, 'got.bin')).equals(reply)).toBe(true);
    // The real port now runs at the program's rate.
    const stty = spawnSync('stty', ['-F', pair.a, '-a'], { encoding: 'utf8' }).stdout;
    expect(stty).toMatch(/speed 57600 baud/);
    expect(stty).toMatch(/(?:^|\s)cstopb(?:\s|$)/);
    expect(stty).toMatch(/(?:^|\s)crtscts(?:\s|$)/);

    const all = await events(trace);
    const tx = Buffer.concat(all.filter((e) => e.dir === 'tx').map((e) => e.data));
    const rx = Buffer.concat(all.filter((e) => e.dir === 'rx').map((e) => e.data));
    expect(tx.equals(Buffer.concat([sent, Buffer.from('AT\r')]))).toBe(true);
    expect(rx.equals(Buffer.concat([reply, Buffer.from('GO')]))).toBe(true);
    const baudAt = all.findIndex((e) => e.dir === 'note' && e.data.toString() === 'baud 57600');
    const atAt = all.findIndex((e) => e.dir === 'tx' && e.data.toString('latin1') === 'AT\r');
    expect(baudAt).toBeGreaterThan(0);
    expect(atAt).toBeGreaterThan(baudAt);
  }, 30_000);

  it('sits in front of the emulator, masking the Wi-Fi password in the trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-rec-'));
    const pty = join(dir, 'ttyESP');
    const trace = join(dir, 'esp.jsonl');
    const { child } = await startRecord(['--device', 'emu:esp-at', '--pty', pty, '--trace', trace]);
    const script = `
import serial, sys
s = serial.Serial(sys.argv[1], 115200, timeout=5)
def cmd(c):
    s.write(c)
    out = b''
    while not (out.endswith(b'OK\\r\\n') or out.endswith(b'ERROR\\r\\n') or out.endswith(b'FAIL\\r\\n')):
        b = s.read(1)
        if not b:
            break
        out += b
    return out
print(cmd(b'AT\\r\\n').decode('latin1').split()[-1])
print(cmd(b'AT+CWMODE=1\\r\\n').decode('latin1').split()[-1])
print(cmd(b'AT+CWJAP="atbridge-lab","s3cret-pass"\\r\\n').decode('latin1').split()[-1])
`;
    writeFileSync(join(dir, 'esp.py'), script);
    const run = spawnSync(PYTHON, [join(dir, 'esp.py'), pty], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')[0]).toBe('OK');
    expect(await stop(child)).toBe(0);
    const text = readFileSync(trace, 'utf8');
    expect(text).toContain('AT+CWMODE=1');
    expect(text).toContain('AT+CWJAP');
    expect(text).not.toContain('s3cret-pass');
  }, 30_000);

  it('a missing device is one line and a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-rec-'));
    const run = spawnSync(process.execPath, [CLI, 'record', '--device', '/dev/ttyNOPE9', '--pty', join(dir, 'p'), '--trace', join(dir, 't.jsonl')], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr.split('\n')[0]).toMatch(/ttyNOPE9/);
  });
});
