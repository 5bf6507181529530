import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { flightRecorder } from '../../src/trace/flight-recorder.js';
import { openCapture } from '../../src/trace/import/index.js';
import { readTrace } from '../../src/trace/reader.js';
import { listSegments } from '../../src/trace/segments.js';
import { openTraceSet, snapshotTraceSet } from '../../src/trace/trace-set.js';
import { TraceWriter } from '../../src/trace/writer.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'atb-fr-'));

async function collect(events: AsyncIterable<TraceEvent>): Promise<TraceEvent[]> {
  const all: TraceEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}

describe('a trace that survives reconnects (issue 21 item 3)', () => {
  it('a second session appends after the first, with a note, never truncating it', async () => {
    const path = join(tmp(), 'bridge.jsonl');
    const first = new TraceWriter(path, { now: () => 5 });
    first.tx(Buffer.from('AT\r'));
    first.rx(Buffer.from('\r\nERROR\r\n'));
    await first.close();
    expect(first.appended).toBe(false);
    const second = new TraceWriter(path, { now: () => 1 });
    second.tx(Buffer.from('ATE0\r'));
    await second.close();
    expect(second.appended).toBe(true);
    const { header, events } = await readTrace(path);
    expect(header?.type).toBe('atbridge-trace');
    const all = await collect(events);
    expect(all.map((e) => [e.dir, e.data.toString('latin1')])).toEqual([
      ['tx', 'AT\r'],
      ['rx', '\r\nERROR\r\n'],
      ['note', expect.stringMatching(/^new session started /)],
      ['tx', 'ATE0\r'],
    ]);
    // One clock: the second session's times are shifted by when it started, so t never runs back.
    const note = all[2]!;
    expect(note.fields).toMatchObject({ session: 'new' });
    expect(all[3]!.t!).toBeGreaterThanOrEqual(note.t!);
    expect(all[3]!.t! - note.t!).toBeCloseTo(1, 5);
  });
});

describe('flight recorder (--trace-dir)', () => {
  it('rolls compressed segments, drops the oldest past the cap, and reads the set in order', async () => {
    const dir = tmp();
    let t = 0;
    const { writer } = flightRecorder(dir, { segmentBytes: 4096, totalBytes: 16384, flushMs: 1, now: () => t++, redact: false });
    // Incompressible payloads so segments fill: 400 events of ~150 bytes of base64.
    for (let i = 0; i < 400; i++) {
      writer.tx(Buffer.from(`AT+SEQ=${i}\r`));
      writer.rx(randomBytes(100));
      // Serial traffic comes over time: let the compressor's output be counted between events.
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writer.close();
    const segments = listSegments(dir);
    expect(segments.length).toBeGreaterThan(3);
    const total = segments.reduce((s, x) => s + x.bytes, 0);
    expect(total).toBeLessThanOrEqual(16384 + 4096);
    expect(segments[0]!.seq).toBeGreaterThan(1); // the first segments were dropped
    const { stream } = openTraceSet(dir);
    const { header, events } = await readTrace(stream);
    expect(header?.redacted).toBe(false);
    const all = await collect(events);
    const seqs = all.filter((e) => e.dir === 'tx').map((e) => Number(/SEQ=(\d+)/.exec(e.data.toString('latin1'))![1]));
    expect(seqs.at(-1)).toBe(399);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true); // contiguous: nothing lost between segments
    expect(all.some((e) => e.dir === 'note')).toBe(false); // segments of one session: no "new session" notes
    // The timeline goes on across segments: t increases.
    const times = all.map((e) => e.t!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps secrets masked, reads a segment cut short by a power loss, and a new process continues the numbering', async () => {
    const dir = tmp();
    const { writer, sink } = flightRecorder(dir, { secrets: ['hunter22'] });
    writer.tx(Buffer.from('AT+CWJAP="home","hunter22"\r'));
    writer.rx(Buffer.from('\r\nOK\r\n'));
    await sink.flush();
    // Simulate the power loss: the file as it is now, without the gzip trailer.
    const [segment] = listSegments(dir);
    const cut = readFileSync(segment!.path);
    writer.tx(Buffer.from('AT+CIPSTART="TCP","broker",1883\r'));
    await writer.close();
    writeFileSync(segment!.path, cut);
    const { writer: next } = flightRecorder(dir);
    next.tx(Buffer.from('AT\r'));
    await next.close();
    const segments = listSegments(dir);
    expect(segments.map((s) => s.seq)).toEqual([1, 2]);
    const capture = await openCapture(dir);
    const all = await collect(capture.events);
    const text = all.map((e) => e.data.toString('latin1')).join('|');
    expect(text).not.toContain('hunter22');
    expect(text).toContain('AT+CWJAP="home",');
    expect(all.map((e) => e.dir)).toEqual(['tx', 'rx', 'note', 'tx']);
    expect(all[2]!.data.toString()).toMatch(/^new session started/);
  });

  it('a snapshot copies the last N minutes aside as one plain trace', async () => {
    const dir = tmp();
    let t = 0;
    const { writer } = flightRecorder(dir, { now: () => t });
    writer.tx(Buffer.from('AT+OLD\r'));
    t = 10 * 60_000; // ten minutes later
    writer.tx(Buffer.from('AT+NEW\r'));
    await writer.close();
    const header = JSON.parse(gunzipSync(readFileSync(listSegments(dir)[0]!.path)).toString().split('\n')[0]!) as { start: string };
    const now = Date.parse(header.start) + 10 * 60_000 + 1000;
    const snap = await snapshotTraceSet(dir, 5, now);
    expect(existsSync(snap.path)).toBe(true);
    expect(snap.events).toBe(1);
    const { events } = await readTrace(snap.path);
    const all = await collect(events);
    expect(all.map((e) => e.data.toString())).toEqual(['AT+NEW\r']);
    expect(statSync(snap.path).isFile()).toBe(true);
  });

  it('decode reads a --trace-dir directory (CLI from dist)', () => {
    const dir = tmp();
    const { writer } = flightRecorder(dir);
    writer.tx(Buffer.from('AT+CSQ\r'));
    writer.rx(Buffer.from('\r\n+CSQ: 21,99\r\n\r\nOK\r\n'));
    return writer.close().then(() => {
      const run = spawnSync(process.execPath, ['dist/src/cli.js', 'decode', dir], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('AT+CSQ');
      const empty = spawnSync(process.execPath, ['dist/src/cli.js', 'decode', tmp()], { encoding: 'utf8' });
      expect(empty.status).not.toBe(0);
      expect(empty.stderr.trim().split('\n')).toHaveLength(1);
      expect(empty.stderr).toContain('holds no trace segments');
    });
  });
});
