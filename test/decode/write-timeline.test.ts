import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeCapture } from '../../src/decode/decode-capture.js';
import { formatEntry } from '../../src/decode/format-entry.js';
import { writeTimeline } from '../../src/decode/write-timeline.js';
import { tempFile } from './helpers.js';

/** Every capture fixture: pasted logs, foreign captures and JSONL traces (bench-shaped, edge cases). */
const FIXTURES = [
  ...readdirSync('fixtures/captures').filter((f) => !f.endsWith('.mjs')).map((f) => `fixtures/captures/${f}`),
  ...readdirSync('fixtures/logs').filter((f) => f.endsWith('.txt')).map((f) => `fixtures/logs/${f}`),
].sort();

/** A sink that keeps what is written and calls back later, as a pipe does when full. */
function collector(highWaterMark = 64 * 1024): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** What decode wrote before its output was buffered: the first line, then each entry and LF. */
async function reference(file: string, json: boolean): Promise<Buffer> {
  const decoded = await decodeCapture(file);
  const lines: string[] = [];
  if (json) lines.push(JSON.stringify({ type: 'decode', file, format: decoded.capture.format, profile: decoded.profile.id, ...(decoded.family ? { family: decoded.family.id, familyWhy: decoded.family.why } : {}) }));
  for await (const batch of decoded.batches) for (const e of batch) lines.push(json ? JSON.stringify(e) : formatEntry(e));
  return Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
}

/** A corpus log with no AT traffic in it (a shell session, an HTTP log) is refused before any output. */
async function refused(file: string): Promise<boolean> {
  const err: unknown = await decodeCapture(file).then(() => undefined, (e: unknown) => e);
  if (err === undefined) return false;
  expect(err).toMatchObject({ code: 'no-traffic', exitCode: 23 });
  return true;
}

describe('decode output', () => {
  it.each(FIXTURES)('%s: --json is one JSON.stringify(entry) per line, byte for byte', async (file) => {
    if (await refused(file)) return;
    const { sink, bytes } = collector();
    await writeTimeline(await decodeCapture(file), sink, { file, json: true });
    expect(bytes().equals(await reference(file, true))).toBe(true);
  });

  it.each(FIXTURES)('%s: text is one formatEntry per line after the header', async (file) => {
    if (await refused(file)) return;
    const { sink, bytes } = collector();
    await writeTimeline(await decodeCapture(file), sink, { file });
    const text = bytes().toString('utf8');
    const body = text.slice(text.indexOf('\n', text.indexOf(': ') + 1) + 1).replace(/^# .*\n/, '');
    expect(body).toBe((await reference(file, false)).toString('utf8'));
  });

  it('a large capture comes out whole through a slow pipe (writes wait for drain)', async () => {
    const one = readFileSync('fixtures/captures/bench-sim7600-mqtt.jsonl');
    const file = tempFile('three.jsonl', Buffer.concat([one, one, one]));
    const { sink, bytes } = collector(1024);
    await writeTimeline(await decodeCapture(file), sink, { file, json: true });
    const out = bytes();
    expect(out.length).toBeGreaterThan(1 << 20);
    expect(out.equals(await reference(file, true))).toBe(true);
  });
});
