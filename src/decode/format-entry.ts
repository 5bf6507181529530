import pc from 'picocolors';
import type { TimelineEntry } from './timeline.js';

const ARROW = { tx: '→', rx: '←', note: '●' } as const;

/** Seconds with ms, or blanks when the source had no times. */
function time(t: number | undefined): string {
  return t === undefined ? '        ' : (t / 1000).toFixed(3).padStart(8);
}

function colourFor(e: TimelineEntry): (s: string) => string {
  if (e.kind === 'final') return e.outcome === 'ok' || e.outcome === 'connect' ? pc.green : pc.red;
  if (e.kind === 'urc' || e.kind === 'busy') return pc.yellow;
  if (e.kind === 'command') return pc.bold;
  if (e.kind === 'note' || e.kind === 'noise' || e.kind === 'echo') return pc.dim;
  if (e.kind === 'data') return pc.cyan;
  return (s) => s;
}

/** One timeline entry as a line for a person: time, direction, kind, text, meaning, round trip. */
export function formatEntry(e: TimelineEntry): string {
  // A pasted log's note says how its line was read (prose, code, a library's debug print).
  const shownKind = e.kind === 'note' && e.read && e.read !== 'traffic' ? e.read : e.inferred && e.kind === 'command' ? 'command?' : e.kind;
  const kind = shownKind.padEnd(8);
  let line = `${pc.dim(time(e.t))} ${ARROW[e.dir]} ${pc.dim(kind)} ${colourFor(e)(e.text)}`;
  if (e.reader && e.dir !== 'note') line += pc.dim(`  (${e.reader})`);
  if (e.socket) line += pc.dim(`  [link ${e.socket.link} ${e.socket.via} ${e.socket.bytes} B${e.socket.truncated ? ', cut short' : ''}]`);
  const notes: string[] = [];
  if (e.meaning) notes.push(e.meaning);
  if (e.rttMs !== undefined) notes.push(`${formatMs(e.rttMs)} after ${e.command ?? 'the command'}`);
  if (notes.length > 0) line += pc.dim(`  — ${notes.join('; ')}`);
  for (const packet of e.mqtt ?? []) {
    line += `\n${' '.repeat(19)}${pc.blue(`MQTT ${e.dir === 'tx' ? '⇢' : '⇠'} ${packet.text}`)}${packet.payloadPreview !== undefined ? pc.dim(` "${packet.payloadPreview}"`) : ''}`;
  }
  return line;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** One JSON object per line for scripts. */
export function entryJson(e: TimelineEntry): string {
  return JSON.stringify(e);
}
