import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { readTrace, TraceFormatError } from '../../src/trace/reader.js';
import { TraceWriter } from '../../src/trace/writer.js';
import type { TraceEvent } from '../../src/trace/events.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'atb-tr-'));

async function written(fill: (w: TraceWriter) => void, options: ConstructorParameters<typeof TraceWriter>[1] = {}): Promise<{ text: string; events: TraceEvent[] }> {
  const path = join(tmp(), 't.jsonl');
  let t = 0;
  const writer = new TraceWriter(path, { now: () => t++, ...options });
  fill(writer);
  await writer.close();
  const { events } = await readTrace(path);
  const all: TraceEvent[] = [];
  for await (const e of events) all.push(e);
  return { text: readFileSync(path, 'utf8'), events: all };
}

describe('trace writer and reader', () => {
  it('round-trips text as text and binary as base64, byte-exact, with a header', async () => {
    const binary = Buffer.from([0x10, 0x00, 0xff, 0x0d, 0x0a]);
    const { text, events } = await written((w) => {
      w.tx(Buffer.from('AT+CSQ\r'));
      w.rx(Buffer.from('\r\n+CSQ: 21,99\r\n\r\nOK\r\n'));
      w.rx(binary);
      w.note('state ready', { state: 'ready' });
    }, { profile: 'sim7600', baud: 115200 });
    const [header, first] = text.split('\n');
    expect(JSON.parse(header!)).toMatchObject({ type: 'atbridge-trace', version: 1, profile: 'sim7600', baud: 115200, redacted: true });
    expect(JSON.parse(first!)).toEqual({ t: 0, dir: 'tx', data: 'AT+CSQ\r' });
    expect(text).toContain('"enc":"base64"');
    expect(events.map((e) => [e.dir, e.data.toString('latin1')])).toEqual([
      ['tx', 'AT+CSQ\r'],
      ['rx', '\r\n+CSQ: 21,99\r\n\r\nOK\r\n'],
      ['rx', binary.toString('latin1')],
      ['note', 'state ready'],
    ]);
    expect(events[3]!.fields).toEqual({ state: 'ready' });
  });

  it('redacts the Wi-Fi password, the SIM PIN and the MQTT CONNECT password, even split across chunks', async () => {
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gw', username: 'user', password: Buffer.from('mqtt-secret-pw'), keepalive: 60, clean: true });
    const { text, events } = await written((w) => {
      w.tx(Buffer.from('AT+CWJAP="home","wifi-sec'));
      w.tx(Buffer.from('ret-pw"\r\n'));
      w.tx(Buffer.from('AT+CPIN="4321"\r'));
      w.tx(connect.subarray(0, 20));
      w.tx(connect.subarray(20));
    });
    expect(text).not.toMatch(/wifi-secret-pw|4321|mqtt-secret-pw/);
    const sent = Buffer.concat(events.filter((e) => e.dir === 'tx').map((e) => e.data));
    expect(sent.length).toBe(Buffer.byteLength('AT+CWJAP="home","wifi-secret-pw"\r\nAT+CPIN="4321"\r') + connect.length);
    expect(sent.toString('latin1')).toContain('AT+CWJAP="home","');
  });

  it('masks secrets the session knows wherever they appear', async () => {
    const { text } = await written((w) => w.rx(Buffer.from('+MQTTUSERCFG:0,1,"id","user","hunter2-long",0,0,""\r\n')), { secrets: ['hunter2-long'] });
    expect(text).not.toContain('hunter2-long');
  });

  it('streams a large trace in constant memory: events come one at a time', async () => {
    const path = join(tmp(), 'big.jsonl');
    const out = createWriteStream(path);
    out.write('{"type":"atbridge-trace","version":1,"tool":"atbridge","start":"2026-11-23T00:00:00Z"}\n');
    const line = `${JSON.stringify({ t: 1, dir: 'rx', data: '\r\n+CSQ: 21,99\r\n\r\nOK\r\n'.repeat(20) })}\n`;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(() => r()));
    const { header, events } = await readTrace(path);
    expect(header?.type).toBe('atbridge-trace');
    let count = 0;
    let bytes = 0;
    for await (const e of events) {
      count++;
      bytes += e.data.length;
    }
    expect(count).toBe(n);
    expect(bytes).toBe(n * Buffer.byteLength('\r\n+CSQ: 21,99\r\n\r\nOK\r\n'.repeat(20)));
  });

  it('a broken line is a TraceFormatError naming the line', async () => {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, '{"type":"atbridge-trace","version":1}\n{"t":1,"dir":"rx","data":"ok"}\nnot json\n');
    const { events } = await readTrace(path);
    const err = await (async () => {
      for await (const _ of events) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as Error).message).toBe('line 3: not a JSON object');
  });

  it('reads from a stream as well as a path', async () => {
    const input = new PassThrough();
    input.end('{"t":0,"dir":"tx","data":"AT\\r"}\n{"t":1,"dir":"rx","data":"OK"}');
    const { header, events } = await readTrace(input);
    expect(header).toBeUndefined();
    const got: string[] = [];
    for await (const e of events) got.push(e.data.toString());
    expect(got).toEqual(['AT\r', 'OK']);
  });
});
