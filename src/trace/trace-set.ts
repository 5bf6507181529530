import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants, createGunzip } from 'node:zlib';
import { toRecord } from './events.js';
import { readTrace } from './reader.js';
import { listSegments } from './segments.js';

/** gzip's magic bytes: a compressed trace (a flight-recorder segment or a `.jsonl.gz`). */
export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * The decompressed lines of gzip files one after another, as one stream. A file cut short (the
 * segment being written when the gateway lost power) gives what it holds: the compressor is flushed
 * every second, and a last line without its newline is dropped rather than read as bad JSON.
 */
export function concatGzip(paths: string[], onRead?: (bytes: number) => void): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const path of paths) {
      const file = createReadStream(path, { highWaterMark: 1 << 20 });
      if (onRead) file.on('data', (chunk) => onRead(chunk.length));
      const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 1 << 18 });
      let tail: Buffer = Buffer.alloc(0);
      try {
        for await (const chunk of file.pipe(gunzip) as AsyncIterable<Buffer>) {
          const joined = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
          const cut = joined.lastIndexOf(0x0a) + 1;
          if (cut > 0) yield joined.subarray(0, cut);
          tail = joined.subarray(cut);
        }
      } catch (err) {
        // A segment removed by the cap while we read, or its last block cut off: keep what came out.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
          file.destroy();
          throw err;
        }
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** The segments of a flight-recorder directory as one stream of JSONL, oldest first. */
export function openTraceSet(dir: string, onRead?: (bytes: number) => void): { stream: Readable; files: number; bytes: number } {
  const segments = listSegments(dir);
  return { stream: concatGzip(segments.map((s) => s.path), onRead), files: segments.length, bytes: segments.reduce((sum, s) => sum + s.bytes, 0) };
}

export interface SnapshotResult {
  path: string;
  events: number;
}

/**
 * Copies the last `minutes` of a flight-recorder directory aside, as one plain JSONL trace in
 * DIR/snapshots/ (outside the rolling set, so the cap never deletes it).
 */
export async function snapshotTraceSet(dir: string, minutes: number, now = Date.now()): Promise<SnapshotResult> {
  const { stream } = openTraceSet(dir);
  const { header, events } = await readTrace(stream);
  const origin = header ? Date.parse(header.start) : NaN;
  const from = now - minutes * 60_000;
  await mkdir(join(dir, 'snapshots'), { recursive: true });
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const path = join(dir, 'snapshots', `snapshot-${stamp}.jsonl`);
  const out = await open(path, 'w');
  let count = 0;
  try {
    let text = header ? `${JSON.stringify({ ...header, source: `snapshot of the last ${minutes} min of ${dir}` })}\n` : '';
    for await (const event of events) {
      const wall = Number.isFinite(origin) && event.t !== undefined ? origin + event.t : undefined;
      if (wall !== undefined && wall < from) continue;
      delete event.line;
      text += `${JSON.stringify(toRecord(event))}\n`;
      count++;
      if (text.length > 1 << 20) {
        await out.write(text);
        text = '';
      }
    }
    await out.write(text);
  } finally {
    await out.close();
  }
  return { path, events: count };
}
