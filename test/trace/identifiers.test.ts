import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { AtChannel } from '../../src/at/channel.js';
import { finding } from '../../src/doctor/findings.js';
import { identifyModule } from '../../src/modem/identify.js';
import { getProfile } from '../../src/profile/index.js';
import { maskIdentifier, maskIdentifierLine, maskIdentifiersInText } from '../../src/trace/identifiers.js';
import { readTrace } from '../../src/trace/reader.js';
import { TraceWriter } from '../../src/trace/writer.js';
import { decodeAll, tempFile } from '../decode/helpers.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const tmp = () => mkdtempSync(join(tmpdir(), 'atb-ids-'));

/** The emulated SIM7600's answers (its IMEI, the test IMSI 001 01 and ICCID 89 882), as the module prints them. */
const SESSION: [string, string][] = [
  ['ATI\r', 'ATI\r\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7600G-H\r\nRevision: LE20B04SIM7600G22\r\nIMEI: 861234050000000\r\n+GCAP: +CGSM\r\n\r\nOK\r\n'],
  ['AT+CGSN\r', 'AT+CGSN\r\r\n861234050000000\r\n\r\nOK\r\n'],
  ['AT+CIMI\r', 'AT+CIMI\r\r\n001019876543210\r\n\r\nOK\r\n'],
  ['AT+CICCID\r', 'AT+CICCID\r\r\n+ICCID: 8988211000000000001\r\n\r\nOK\r\n'],
  ['AT+CGSN=1\r', 'AT+CGSN=1\r\r\n+CGSN: "861234050000000"\r\n\r\nOK\r\n'],
  // Bare numbers answering other commands are not identifiers.
  ['AT+CIPRXGET=2,0,15\r', 'AT+CIPRXGET=2,0,15\r\r\n+CIPRXGET: 2,0,15,0\r\n123456789012345\r\nOK\r\n'],
];
const FULL = ['861234050000000', '001019876543210', '8988211000000000001'];
const MASKED = ['IMEI: 8612*******0000', '\r\n8612*******0000\r\n', '\r\n0010*******3210\r\n', '+ICCID: 8988***********0001', '+CGSN: "8612*******0000"', '\r\n123456789012345\r\n'];

async function traced(cut: number | undefined): Promise<string> {
  const path = join(tmp(), 't.jsonl');
  let t = 0;
  const w = new TraceWriter(path, { now: () => t++ });
  for (const [tx, rx] of SESSION) {
    w.tx(Buffer.from(tx));
    const bytes = Buffer.from(rx, 'latin1');
    const step = cut ?? bytes.length;
    for (let i = 0; i < bytes.length; i += step) w.rx(bytes.subarray(i, i + step));
  }
  await w.close();
  let rx = '';
  for await (const e of (await readTrace(path)).events) if (e.dir === 'rx') rx += e.data.toString('latin1');
  return rx;
}

describe('identifiers (IMEI, IMSI, ICCID): first 4 and last 4 kept, the rest masked, the length kept', () => {
  it('the rule', () => {
    expect(maskIdentifier('861234050000000')).toBe('8612*******0000');
    expect(maskIdentifier('8988211000000000001')).toBe('8988***********0001');
    expect(maskIdentifier('89882110000000000012')).toHaveLength(20);
    expect(maskIdentifier('12345678901')).toBe('***********');
  });

  it('answer lines: labelled anywhere, bare only as the answer to their command', () => {
    expect(maskIdentifierLine('IMEI: 354679090045173')).toBe('IMEI: 3546*******5173');
    expect(maskIdentifierLine('+QCCID: 89860318760240012345')).toBe('+QCCID: 8986************2345');
    expect(maskIdentifierLine('+ICCID: 8944500102198304826F')).toBe('+ICCID: 8944************826F');
    expect(maskIdentifierLine('863618054041566', 'AT+CGSN')).toBe('8636*******1566');
    expect(maskIdentifierLine('295050903238853', 'AT+CIMI')).toBe('2950*******8853');
    expect(maskIdentifierLine('89014103211118510720', 'AT+CCID')).toBe('8901************0720');
    // The same digits answering something else, or with no command known, stay.
    expect(maskIdentifierLine('863618054041566', 'AT+CIPRXGET=2,0')).toBe('863618054041566');
    expect(maskIdentifierLine('863618054041566')).toBe('863618054041566');
    expect(maskIdentifierLine('+CSQ: 21,99', 'AT+CSQ')).toBe('+CSQ: 21,99');
  });

  it('inside a message: the unknown-module error quoting ATI, a finding quoting it', async () => {
    expect(maskIdentifiersInText('it said: Model: X | IMEI: 861234050000000 | +GCAP: +CGSM')).toBe('it said: Model: X | IMEI: 8612*******0000 | +GCAP: +CGSM');
    const f = finding('wrong-port', 'answers IMEI: 861234050000000', [{ index: 0, dir: 'rx', text: 'IMEI: 861234050000000' }]);
    expect(JSON.stringify(f)).not.toContain('861234050000000');
    expect(f.evidence[0]!.text).toBe('IMEI: 8612*******0000');
    const channel = { send: async () => ({ ok: true, final: 'OK', lines: ['Manufacturer: ACME', 'Model: X1', 'IMEI: 861234050000000'] }) } as unknown as AtChannel;
    const err = await identifyModule(channel, [getProfile('esp-at')]).catch((e: Error) => e);
    expect((err as Error).message).toContain('IMEI: 8612*******0000');
    expect((err as Error).message).not.toContain('861234050000000');
  });

  it('a trace keeps them masked, however the module\'s bytes are cut', async () => {
    for (const cut of [undefined, 1, 2, 3, 5, 7, 13]) {
      const rx = await traced(cut);
      for (const full of FULL) expect(rx, `cut ${cut}`).not.toContain(full);
      for (const m of MASKED) expect(rx, `cut ${cut}`).toContain(m);
      // Same byte count as the module sent: nothing else changes.
      expect(rx.length).toBe(SESSION.reduce((n, [, r]) => n + r.length, 0));
    }
  });

  it('an identifier the module answered with is masked where it comes again (a client id, real u-blox log)', async () => {
    const path = join(tmp(), 't.jsonl');
    const w = new TraceWriter(path);
    w.tx(Buffer.from('AT+CGSN\r'));
    w.rx(Buffer.from('\r\n863618054041566\r\nOK\r\n'));
    w.tx(Buffer.from('AT+UMQTT=0,"863618054041566"\r'));
    w.rx(Buffer.from('\r\nOK\r\n'));
    await w.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('863618054041566');
    expect(text).toContain('AT+UMQTT=0,\\"8636*******1566\\"');
    // decode of the real log (not our trace): the same masks.
    const { entries } = await decodeAll('fixtures/logs/ublox_110_lena-r8-ubxlib-mqtt-connect-working-example.txt');
    const shown = entries.map((e) => `${e.text} ${e.command ?? ''} ${JSON.stringify(e.mqtt ?? '')}`).join('\n');
    expect(shown).not.toContain('863618054041566');
    expect(shown).toContain('8636*******1566');
    expect(shown).toContain('AT+UMQTT=0,"8636*******1566"');
    // decode --html of the same log (a family read with the 3GPP base: its profile has no id to load).
    const page = join(tmp(), 'u.html');
    const run = spawnSync(process.execPath, [CLI, 'decode', 'fixtures/logs/ublox_110_lena-r8-ubxlib-mqtt-connect-working-example.txt', '--html', page], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(page, 'utf8')).toContain('8636*******1566');
    expect(readFileSync(page, 'utf8')).not.toContain('863618054041566');
  });

  it('decode, decode --json, decode --html and doctor --log --json of a pasted log show them masked', () => {
    const log = tempFile('sim7600.txt', SESSION.map(([tx, rx]) => rx).join(''));
    const dir = tmp();
    const page = join(dir, 'page.html');
    const outs = [
      spawnSync(process.execPath, [CLI, 'decode', log], { encoding: 'utf8' }),
      spawnSync(process.execPath, [CLI, 'decode', log, '--json'], { encoding: 'utf8' }),
      spawnSync(process.execPath, [CLI, 'decode', log, '--html', page], { encoding: 'utf8' }),
      spawnSync(process.execPath, [CLI, 'doctor', '--log', log, '--json'], { encoding: 'utf8' }),
    ];
    for (const o of outs) {
      expect(o.stderr).not.toMatch(/at .*\.js:\d+/);
      for (const full of FULL) expect(o.stdout).not.toContain(full);
    }
    expect(outs[0]!.stdout).toContain('IMEI: 8612*******0000');
    expect(outs[0]!.stdout).toContain('+ICCID: 8988***********0001');
    expect(outs[0]!.stdout).toContain('0010*******3210');
    expect(existsSync(page)).toBe(true);
    const html = readFileSync(page, 'utf8');
    for (const full of FULL) expect(html).not.toContain(full);
    expect(html).toContain('8612*******0000');
  });
});

describe('record through a pty: the program sees the module as it is, the trace keeps the identifiers masked', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await gone;
      }
    }
  });

  it('emulated SIM7600: ATI, AT+CGSN, AT+CIMI, AT+CICCID', async () => {
    const dir = tmp();
    const pty = join(dir, 'modem');
    const trace = join(dir, 'rec.jsonl');
    const child = spawn(process.execPath, [CLI, 'record', '--device', 'emu:sim7600', '--pty', pty, '--trace', trace], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), out.includes('ready ') && resolve()));
      child.once('exit', (code) => reject(new Error(`record exited ${code}`)));
    });
    const port = new SerialPort({ path: pty, baudRate: 115200 });
    await new Promise<void>((r, j) => port.once('open', r).once('error', j));
    let seen = '';
    port.on('data', (d: Buffer) => (seen += d.toString('latin1')));
    const ask = async (command: string, until: RegExp) => {
      const from = seen.length;
      port.write(`${command}\r`);
      for (let i = 0; i < 200 && !until.test(seen.slice(from)); i++) await new Promise((r) => setTimeout(r, 25));
    };
    await ask('AT', /OK\r\n/);
    for (const c of ['ATI', 'AT+CGSN', 'AT+CIMI', 'AT+CICCID']) await ask(c, /(OK|ERROR)\r\n/);
    await new Promise<void>((r) => port.close(() => r()));
    // The program got the real numbers.
    expect(seen).toContain('IMEI: 861234050000000');
    expect(seen).toContain('+ICCID: 8988211000000000001');
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
    const text = readFileSync(trace, 'utf8');
    for (const full of FULL) expect(text).not.toContain(full);
    // The module's side as one stream (a line may be split over two events, as it was read).
    let rx = '';
    for await (const e of (await readTrace(trace)).events) if (e.dir === 'rx') rx += e.data.toString('latin1');
    for (const m of ['IMEI: 8612*******0000', '8612*******0000', '0010*******3210', '+ICCID: 8988***********0001']) expect(rx).toContain(m);
    writeFileSync(join(dir, 'done'), '');
  }, 30_000);
});
