import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it, vi } from 'vitest';
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
    // Command lines get the fixed mask; the CONNECT keeps its byte count (it still decodes).
    expect(sent.toString('latin1').startsWith('AT+CWJAP="home","********"\r\nAT+CPIN="********"\r')).toBe(true);
    expect(sent.length).toBe(Buffer.byteLength('AT+CWJAP="home","********"\r\nAT+CPIN="********"\r') + connect.length);
  });

  it('writes a held-back tail as its own tx event with its own time, never joined with the next chunk', async () => {
    // A payload ending in "at" could begin AT+CWJAP, so the writer holds those 2 bytes back; a known
    // secret split across two chunks is held the same way and must still be masked.
    const { text, events } = await written(
      (w) => {
        w.tx(Buffer.from('client-esp-at'));
        w.tx(Buffer.from('AT+CIPSEND=0,4\r\n'));
        w.tx(Buffer.from('xx hunt'));
        w.tx(Buffer.from('er2-long yy'));
      },
      { secrets: ['hunter2-long'] },
    );
    const tx = events.filter((e) => e.dir === 'tx').map((e) => ({ t: e.t, data: e.data.toString('latin1') }));
    expect(tx.slice(0, 4)).toEqual([
      { t: 0, data: 'client-esp-' },
      { t: 0, data: 'at' },
      { t: 1, data: 'AT+CIPSEND=0,4\r\n' },
      { t: 2, data: 'xx ' },
    ]);
    expect(tx.slice(4).map((e) => e.data)).toEqual(['****', '******** yy']);
    expect(tx[4]!.t).toBe(2);
    expect(text).not.toMatch(/hunt|er2-long/);
  });

  it('writes a held-back tx tail before the answer that follows it', async () => {
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gw-at', username: 'user', password: Buffer.from('mqtt-secret-pw'), keepalive: 60, clean: true });
    const cut = connect.length - 6;
    const { text, events } = await written((w) => {
      w.tx(Buffer.from('fam-trace-esp-at'));
      w.rx(Buffer.from('\r\nSEND OK\r\n'));
      w.tx(connect.subarray(0, cut)); // ends inside the password ("mqtt-secret-pw")
      w.rx(Buffer.from('>'));
      w.tx(connect.subarray(cut));
    });
    expect(events.slice(0, 3).map((e) => `${e.dir}:${e.data.toString('latin1')}`)).toEqual(['tx:fam-trace-esp-', 'tx:at', 'rx:\r\nSEND OK\r\n']);
    expect(text).not.toMatch(/secret|-pw/);
    expect(Buffer.concat(events.filter((e) => e.dir === 'tx').map((e) => e.data)).length).toBe(16 + connect.length);
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

  it('keeps text readable and escaped, binary as base64, notes as UTF-8 — every byte value round-trips', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const quoted = Buffer.from('AT+CIPSTART="TCP","a\\\\b",1\t\r\n');
    const { text, events } = await written((w) => {
      w.rx(quoted);
      w.rx(all);
      w.tx(Buffer.from([0xe2, 0x80, 0xa6])); // UTF-8 bytes are bytes on the wire: base64 too
      w.note('état → ready ✓');
      w.rx(Buffer.alloc(0));
    });
    const records = text.trim().split('\n').slice(1).map((l) => JSON.parse(l) as { data: string; enc?: string });
    expect(records[0]).toEqual({ t: 0, dir: 'rx', data: quoted.toString('latin1') });
    expect(records[1]!.enc).toBe('base64');
    expect(records[2]!.enc).toBe('base64');
    expect(records[3]).toMatchObject({ dir: 'note', data: 'état → ready ✓' });
    expect(records[3]!.enc).toBeUndefined();
    expect(events[0]!.data.equals(quoted)).toBe(true);
    expect(events[1]!.data.equals(all)).toBe(true);
    expect(events[2]!.data.equals(Buffer.from([0xe2, 0x80, 0xa6]))).toBe(true);
    expect(events[3]!.data.toString('utf8')).toBe('état → ready ✓');
  });

  it('with redaction off (never for shared traces) the bytes are kept as sent', async () => {
    const { events, text } = await written((w) => w.tx(Buffer.from('AT+CPIN="4321"\r')), { redact: false });
    expect(events[0]!.data.toString()).toBe('AT+CPIN="4321"\r');
    expect(JSON.parse(text.split('\n')[0]!)).toMatchObject({ redacted: false });
  });
});

describe('redaction, however the bytes are cut', () => {
  /** A known secret inside data keeps its byte count; a secret argument of a command line does not. */
  const mask = (s: string) => '*'.repeat(s.length);
  const MASK = '********';

  /** What a writer makes of `parts`: tx bytes as written (read back from the trace). */
  async function redactedTx(parts: Buffer[], dir: 'tx' | 'rx' = 'tx', secrets: string[] = []): Promise<Buffer> {
    const { events } = await written((w) => {
      for (const p of parts) w[dir](p);
    }, { secrets });
    return Buffer.concat(events.filter((e) => e.dir === dir).map((e) => e.data));
  }

  it('AT+CWJAP password, cut at every byte, in both directions (command and its echo)', async () => {
    const line = 'AT+CWJAP="home","wifi-secret-pw","aa:bb:cc:dd:ee:ff"\r\n';
    const want = `AT+CWJAP="home","${MASK}","aa:bb:cc:dd:ee:ff"\r\n`;
    for (let cut = 1; cut < line.length; cut++) {
      for (const dir of ['tx', 'rx'] as const) {
        const got = await redactedTx([Buffer.from(line.slice(0, cut)), Buffer.from(line.slice(cut))], dir);
        expect(got.toString('latin1'), `${dir} cut at ${cut}`).toBe(want);
      }
    }
  });

  it('a password line flushed half-way (the hold timer) is still masked when the rest arrives later', async () => {
    const path = join(tmp(), 't.jsonl');
    const writer = new TraceWriter(path);
    writer.rx(Buffer.from('\r\nAT+CWJAP_CUR="ssid","wifi-sec'));
    await new Promise((r) => setTimeout(r, 120)); // the writer flushes what it held back after 50 ms
    writer.rx(Buffer.from('ret-pw"\r\n\r\nOK\r\n'));
    await writer.close();
    const { events } = await readTrace(path);
    const parts: Buffer[] = [];
    for await (const e of events) parts.push(e.data);
    // "\r\n" at once, the held start of the line on the timer, then the rest: masked throughout.
    expect(parts.map((p) => p.toString())).toEqual(['\r\n', `AT+CWJAP_CUR="ssid","${MASK}`, '"\r\n\r\nOK\r\n']);
    expect(Buffer.concat(parts).toString()).toBe(`\r\nAT+CWJAP_CUR="ssid","${MASK}"\r\n\r\nOK\r\n`);
  });

  it('a secret argument of a command line becomes the same mask whatever its length (ESP-AT, SIMCom, Quectel MQTT, PIN)', async () => {
    const lines = (pw: string) => [
      `AT+CWJAP="home","${pw}"\r\n`,
      `AT+MQTTUSERCFG=0,1,"id","user","${pw}",0,0,""\r\n`,
      `AT+CMQTTCONNECT=0,"tcp://h:1883",60,1,"user","${pw}"\r`,
      `AT+QMTCONN=0,"id","user","${pw}"\r`,
      `AT+CPIN=${pw}\r`,
    ];
    const short = await redactedTx(lines('ab1').map((l) => Buffer.from(l)));
    const long = await redactedTx(lines('a-much-longer-pass\\"word').map((l) => Buffer.from(l)));
    expect(long.toString()).toBe(short.toString());
    expect(short.toString()).toBe(lines(MASK).join(''));
    expect(short.toString()).not.toContain('ab1');
  });

  it('a command line cut anywhere and flushed by the hold timer between the pieces joins into the whole line\'s mask', async () => {
    vi.useFakeTimers();
    try {
      for (const [line, secret] of [
        ['AT+CWJAP="home","wifi-secret-pw","aa:bb:cc:dd:ee:ff"\r\n', 'wifi-secret-pw'],
        ['AT+QMTCONN=0,"id","user","q\\"uoted,pw"\r', 'q\\"uoted,pw'],
        ['AT+CPIN=87654321\r', '87654321'],
      ] as const) {
        const want = line.replace(secret, MASK);
        for (let cut = 1; cut < line.length; cut++) {
          const path = join(tmp(), 't.jsonl');
          const writer = new TraceWriter(path);
          writer.tx(Buffer.from(line.slice(0, cut)));
          vi.advanceTimersByTime(60); // past the writer's hold timer: the first piece is written alone
          writer.tx(Buffer.from(line.slice(cut)));
          await writer.close();
          vi.useRealTimers();
          const { events } = await readTrace(path);
          const parts: string[] = [];
          for await (const e of events) parts.push(e.data.toString('latin1'));
          vi.useFakeTimers();
          expect(parts.join(''), `cut at ${cut}`).toBe(want);
          for (const part of parts) for (let k = 0; k + 4 <= secret.length; k++) expect(part, `cut at ${cut}`).not.toContain(secret.slice(k, k + 4));
        }
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('AT+CPIN, AT+CPIN with a new PIN, and the known secrets given to the writer', async () => {
    expect((await redactedTx([Buffer.from('AT+CPIN="4321"\rAT+CPIN?\r')])).toString()).toBe(`AT+CPIN="${MASK}"\rAT+CPIN?\r`);
    expect((await redactedTx([Buffer.from('AT+CPIN="12345678","1111"\r')])).toString()).toBe(`AT+CPIN="${MASK}","${MASK}"\r`);
    const got = await redactedTx([Buffer.from('+MQTTUSERCFG:0,1,"id","user","hunter'), Buffer.from('2-long",0,0,""\r\n')], 'rx', ['hunter2-long']);
    expect(got.toString()).toBe(`+MQTTUSERCFG:0,1,"id","user","${mask('hunter2-long')}",0,0,""\r\n`);
  });

  const connects: [string, Parameters<typeof mqttPacket.generate>[0]][] = [
    ['3.1.1 with username', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gw', username: 'user', password: Buffer.from('mqtt-secret-pw'), keepalive: 60, clean: true }],
    ['3.1.1 with a will', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gateway-7', username: 'u', password: Buffer.from('p@ss\r\nOK'), keepalive: 30, clean: false, will: { topic: 'gw/status', payload: Buffer.from('offline'), qos: 1, retain: true } }],
    ['5 with properties and a will', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'v5', username: 'user5', password: Buffer.from('v5-secret'), keepalive: 60, clean: true, properties: { sessionExpiryInterval: 3600, receiveMaximum: 20 }, will: { topic: 't', payload: Buffer.from('w'), properties: { willDelayInterval: 5 } } }],
    ['3.1 (MQIsdp)', { cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old', username: 'u', password: Buffer.from('legacy-pw'), keepalive: 60, clean: true }],
  ];

  it.each(connects)('MQTT CONNECT %s: only the password is masked, cut anywhere into 2 or 3 pieces', async (_name, packet) => {
    const connect = mqttPacket.generate(packet);
    const password = (packet as { password: Buffer }).password;
    const at = connect.lastIndexOf(password);
    const want = Buffer.from(connect);
    want.fill(0x2a, at, at + password.length);
    const before = Buffer.from('AT+CIPSEND=0,1\r');
    for (let a = 1; a < connect.length; a++) {
      const got = await redactedTx([before, connect.subarray(0, a), connect.subarray(a)]);
      expect(got.equals(Buffer.concat([before, want])), `cut at ${a}`).toBe(true);
    }
    for (let a = 1; a < connect.length; a += 3) {
      for (let b = a + 1; b < connect.length; b += 5) {
        const got = await redactedTx([connect.subarray(0, a), connect.subarray(a, b), connect.subarray(b)]);
        expect(got.equals(want), `cut at ${a} and ${b}`).toBe(true);
      }
    }
  });

  it('a CONNECT sent in AT+CIPSEND pieces, with command lines between them, is still masked', async () => {
    const connect = mqttPacket.generate(connects[0]![1]);
    const cut = connect.length - 6;
    const parts = [Buffer.from(`AT+CIPSEND=0,${cut}\r`), connect.subarray(0, cut), Buffer.from('AT+CIPSEND=0,6\r'), connect.subarray(cut)];
    const got = await redactedTx(parts);
    expect(got.includes(Buffer.from('secret'))).toBe(false);
    expect(got.includes(Buffer.from('-pw'))).toBe(false);
    expect(got.length).toBe(Buffer.concat(parts).length);
    expect(got.toString('latin1')).toContain('AT+CIPSEND=0,6\r');
  });

  it('binary that only looks like the start of a CONNECT passes unchanged', async () => {
    const data = Buffer.from([0x10, 0x05, 0x00, 0x04, 0x4d, 0x51, 0x10, 0x20, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x09, 0xc2, 0x30, 0x02, 0x00, 0x00]);
    expect((await redactedTx([data])).equals(data)).toBe(true);
  });
});

describe('bad traces', () => {
  async function readAll(content: string): Promise<unknown> {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, content);
    try {
      const { events } = await readTrace(path);
      for await (const _ of events) void _;
      return undefined;
    } catch (err) {
      return err;
    }
  }
  const HEADER = '{"type":"atbridge-trace","version":1,"tool":"atbridge","start":"2026-01-01T00:00:00Z"}\n';

  it.each([
    ['not JSON', `${HEADER}{"t":1,"dir":"rx","data":"ok"}\nnot json\n`, 'line 3: not a JSON object'],
    ['an unknown direction', `${HEADER}{"t":1,"dir":"up","data":"x"}\n`, 'line 2: unknown direction "up"'],
    ['data that is not a string', `${HEADER}{"t":1,"dir":"rx","data":5}\n`, 'line 2: event without a data string'],
    ['base64 that is not base64', `${HEADER}{"t":1,"dir":"rx","data":"@@@","enc":"base64"}\n`, 'line 2: data marked base64 is not base64'],
    ['an unknown encoding', `${HEADER}{"t":1,"dir":"rx","data":"x","enc":"hex"}\n`, 'line 2: unknown data encoding "hex"'],
    ['a newer format version', '{"type":"atbridge-trace","version":2,"tool":"x","start":"s"}\n', 'line 1: trace format version 2 is not one this atbridge reads (1)'],
    ['a first line that is not JSON', 'garbage\n', 'line 1: not a JSON object'],
    ['a JSON value that is not an object', `${HEADER}null\n`, 'line 2:'],
  ])('%s is a one-line TraceFormatError naming the line', async (_what, content, message) => {
    const err = await readAll(content);
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as Error).message.startsWith(message)).toBe(true);
    expect((err as Error).message).not.toContain('\n');
  });

  it('an empty file or blank lines are not errors', async () => {
    expect(await readAll('')).toBeUndefined();
    expect(await readAll(`\n\n${HEADER}\n{"dir":"rx","data":"OK"}\n\n`)).toBeUndefined();
  });
});
