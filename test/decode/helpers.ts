import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCapture, type DecodeOptions } from '../../src/decode/decode-capture.js';
import type { TimelineEntry } from '../../src/decode/timeline.js';

/** Decodes a file into an array (tests only: real callers stream). */
export async function decodeAll(path: string, options: DecodeOptions = {}): Promise<{ entries: TimelineEntry[]; profile: string; format: string }> {
  const decoded = await decodeCapture(path, options);
  const entries: TimelineEntry[] = [];
  for await (const e of decoded.entries) entries.push(e);
  return { entries, profile: decoded.profile.id, format: decoded.capture.format };
}

export function tempFile(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'atb-decode-')), name);
  writeFileSync(path, content);
  return path;
}

/** The first traffic entry (not a note) whose text matches. */
export function find(entries: TimelineEntry[], text: string | RegExp): TimelineEntry | undefined {
  return entries.find((e) => e.kind !== 'note' && (typeof text === 'string' ? e.text === text : text.test(e.text)));
}
