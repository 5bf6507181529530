import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One compressed segment of a flight-recorder directory: `trace-000042-2026-12-03T15-10-00Z.jsonl.gz`. */
export interface Segment {
  path: string;
  name: string;
  seq: number;
  bytes: number;
}

const SEGMENT_NAME = /^trace-(\d{6,})-[0-9TZ-]+\.jsonl\.gz$/;

export function segmentName(seq: number, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return `trace-${String(seq).padStart(6, '0')}-${stamp}.jsonl.gz`;
}

/** The segments of a directory, oldest first (by sequence number). A missing directory has none. */
export function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    let bytes = 0;
    try {
      bytes = statSync(path).size;
    } catch {
      continue; // removed meanwhile (another writer's cap)
    }
    segments.push({ path, name, seq: Number(match[1]), bytes });
  }
  return segments.sort((a, b) => a.seq - b.seq);
}
