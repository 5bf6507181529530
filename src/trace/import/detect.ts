import { extname } from 'node:path';
import type { CaptureFormat } from './types.js';

/** socat -v/-x transfer header: `> 2024/05/01 10:00:00.123456  length=5 from=0 to=4`. */
export const SOCAT_HEADER = /([<>]) (\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+)\s+length=(\d+) from=\d+ to=\d+\n/;
const INTERCEPTTY_LINE = /^[<>]\s+0x[0-9a-f]{2}(?:\s+\(.*\))?\s*$/i;

/**
 * Picks the importer for a file from its first bytes (and its name as a tie-breaker).
 * Order matters: the strict, structured formats are tried before the lenient transcript.
 */
export function detectFormat(head: Buffer, fileName = ''): CaptureFormat {
  const text = head.toString('latin1');
  const lines = text.split('\n').slice(0, 200);
  const firstLine = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  if (firstLine.startsWith('{') && isJsonTraceLine(firstLine)) return 'jsonl';
  if (SOCAT_HEADER.test(text.slice(0, 4096))) return 'socat';
  const nonEmpty = lines.filter((l) => l.trim() !== '').slice(0, 50);
  if (nonEmpty.length > 0 && nonEmpty.filter((l) => INTERCEPTTY_LINE.test(l.replace(/\r$/, ''))).length >= nonEmpty.length * 0.8) return 'interceptty';
  if (isLogicCsv(nonEmpty)) return 'logic-csv';
  if (/\.(?:bin|raw|dump|cap)$/i.test(extname(fileName)) || looksBinary(head)) return 'raw';
  return 'transcript';
}

function isJsonTraceLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as { type?: unknown; dir?: unknown };
    return value.type === 'atbridge-trace' || value.dir === 'tx' || value.dir === 'rx' || value.dir === 'note';
  } catch {
    return false;
  }
}

/** A header naming a time column and at least one more column, then rows starting with a number. */
function isLogicCsv(lines: string[]): boolean {
  const header = lines[0]?.toLowerCase() ?? '';
  if (!header.includes(',') || !/time/.test(header)) return false;
  const rows = lines.slice(1, 6);
  return rows.length > 0 && rows.every((r) => /^\s*"?[A-Za-z ]*\[?\d*\]?"?,?\s*"?[\w ]*"?,?\s*-?\d/.test(r) || /^\s*-?\d+(?:\.\d+)?(?:e-?\d+)?\s*,/.test(r));
}

/**
 * Raw wire bytes, not a transcript: NULs or other control bytes, invalid UTF-8, or CR without
 * LF (the host's AT command ends in a lone CR on the wire; pasted text never keeps that).
 */
export function looksBinary(head: Buffer): boolean {
  let control = 0;
  let loneCr = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0x0d && head[i + 1] !== 0x0a && i + 1 < head.length) loneCr++;
    else if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x1a && b !== 0x1b) control++;
  }
  if (control > 0 || loneCr > 0) return true;
  return !isValidUtf8(head);
}

function isValidUtf8(buf: Buffer): boolean {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // The head may end inside a character: allow up to 3 bytes of it to be cut off.
  for (let cut = 0; cut <= Math.min(3, buf.length); cut++) {
    try {
      decoder.decode(buf.subarray(0, buf.length - cut));
      return true;
    } catch {
      /* try a shorter prefix */
    }
  }
  return false;
}
