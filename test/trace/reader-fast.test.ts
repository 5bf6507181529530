import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRecord, toRecord, type TraceEvent, type TraceRecord } from '../../src/trace/events.js';
import { fastEvent } from '../../src/trace/reader-fast.js';

/** What the general path makes of a line: JSON.parse and fromRecord, or the error it throws. */
function slowEvent(line: string): TraceEvent | Error {
  try {
    return fromRecord(JSON.parse(line) as TraceRecord);
  } catch (err) {
    return err as Error;
  }
}

/** fastEvent either declines the line or gives exactly the general path's event. */
function agrees(line: string): 'fast' | 'declined' {
  const buf = Buffer.from(`${line}\n`, 'utf8');
  const fast = fastEvent(buf, 0, buf.length - 1);
  if (fast === undefined) return 'declined';
  const slow = slowEvent(line);
  expect(slow).not.toBeInstanceOf(Error);
  const s = slow as TraceEvent;
  expect(Object.is(fast.t, s.t)).toBe(true);
  expect(fast.dir).toBe(s.dir);
  expect(fast.data.equals(s.data)).toBe(true);
  expect(fast.line).toBe(s.line);
  expect(fast.fields).toBeUndefined();
  expect(s.fields).toBeUndefined();
  return 'fast';
}

const JSONL = readdirSync('fixtures/captures').filter((f) => f.endsWith('.jsonl')).map((f) => `fixtures/captures/${f}`);

describe('the trace reader fast path', () => {
  it.each(JSONL)('%s: every line it reads is the event JSON.parse + fromRecord give', (file) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    let fast = 0;
    for (const line of lines) if (agrees(line) === 'fast') fast++;
    expect(fast).toBeGreaterThan(0);
  });

  it('reads nearly every line of a trace as TraceWriter writes them (the bench shape)', () => {
    const lines = readFileSync('fixtures/captures/bench-sim7600-mqtt.jsonl', 'utf8').split('\n').filter((l) => l.length > 0);
    const fast = lines.filter((l) => agrees(l) === 'fast').length;
    expect(fast / lines.length).toBeGreaterThan(0.98);
  });

  it('declines what it does not read in full, the general path decides (errors included)', () => {
    for (const line of [
      '{"t":1,"dir":"note","data":"x"}',
      '{"t":1,"dir":"tx","data":"AT\\r","fields":{"a":1}}',
      '{"t":1e3,"dir":"tx","data":"AT\\r"}',
      '{"t":01,"dir":"tx","data":"AT\\r"}',
      '{"t":1.,"dir":"tx","data":"AT\\r"}',
      '{"t":1,"dir":"tx","data":"caf\u00e9"}',
      '{"t":1,"dir":"tx","data":"a\tb"}',
      '{"t":1,"dir":"tx","data":"\\x41"}',
      '{"t":1,"dir":"tx","data":"\\u00g1"}',
      '{"t":1,"dir":"rx","data":"QUJD","enc":"base64"} ',
      '{"t":1,"dir":"rx","data":"QUJ","enc":"base64"}',
      '{"t":1,"dir":"rx","data":"QU=D","enc":"base64"}',
      '{"t":1,"dir":"rx","data":"Q===","enc":"base64"}',
      '{"t":1,"dir":"rx","data":"QUJD","enc":"hex"}',
      '{"t":1,"dir":"rx","data":"QUJD","line":1.5}',
      '{"t":1234567890.1234567,"dir":"tx","data":"AT\\r"}',
      '{"t":1,"dir":"tx","data":"AT\\r"',
      '{"t":1,"dir":"tx","data":"AT\\r"}}',
    ]) {
      expect(agrees(line)).toBe('declined');
    }
  });

  it('reads escapes, \\u escapes (their low byte, as latin1 does), empty data, line numbers, -0', () => {
    for (const line of [
      '{"t":0,"dir":"tx","data":""}',
      '{"t":-0,"dir":"tx","data":"AT\\r"}',
      '{"t":-12.5,"dir":"rx","data":"\\r\\n\\"q\\" \\\\ \\/ \\b\\f\\t"}',
      '{"t":3,"dir":"rx","data":"\\u0000\\u00ff\\u0100\\ud83d\\u20ac"}',
      '{"t":3,"dir":"rx","data":"","enc":"base64"}',
      '{"t":3,"dir":"rx","data":"QQ==","enc":"base64"}',
      '{"t":3,"dir":"rx","data":"QUI=","enc":"base64","line":0}',
      '{"t":3.25,"dir":"tx","data":"AT\\r","line":12345}',
      '{"t":999999999999999,"dir":"tx","data":"AT"}',
      '{"t":0.000000000000001,"dir":"tx","data":"AT"}',
    ]) {
      expect(agrees(line)).toBe('fast');
    }
  });

  it('agrees with the general path on any event TraceWriter could write (fast-check)', () => {
    const time = fc.oneof(
      fc.integer({ min: 0, max: 1e9 }),
      fc.integer({ min: 0, max: 1e12 }).map((n) => n / 1000),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(time, fc.constantFrom('tx', 'rx') as fc.Arbitrary<'tx' | 'rx'>, fc.uint8Array({ maxLength: 300 }), fc.option(fc.nat(), { nil: undefined }), (t, dir, bytes, line) => {
        const event: TraceEvent = { t, dir, data: Buffer.from(bytes) };
        if (line !== undefined) event.line = line;
        const text = JSON.stringify(toRecord(event));
        agrees(text);
        // Printable data is stored as text: make it likely.
        const plain: TraceEvent = { t, dir, data: Buffer.from(Array.from(bytes, (b) => 0x20 + (b % 0x5f)).concat([0x0d, 0x0a])) };
        const r = agrees(JSON.stringify(toRecord(plain)));
        if (Number.isInteger(t) && Math.abs(t) < 1e15) expect(r).toBe('fast');
      }),
      { seed: 18, numRuns: 3000 },
    );
  });

  it('never reads a mutated line differently from the general path (fast-check)', () => {
    const base = readFileSync('fixtures/captures/bench-sim7600-mqtt.jsonl', 'utf8').split('\n').slice(1, 200);
    fc.assert(
      fc.property(fc.constantFrom(...base), fc.nat(), fc.integer({ min: 0, max: 127 }), (line, at, byte) => {
        const i = at % line.length;
        agrees(line.slice(0, i) + String.fromCharCode(byte) + line.slice(i + 1));
        agrees(line.slice(0, i) + line.slice(i + 1));
      }),
      { seed: 18, numRuns: 5000 },
    );
  });
});
