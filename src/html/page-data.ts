import { decodeCapture } from '../decode/decode-capture.js';
import type { TimelineEntry } from '../decode/timeline.js';
import { analyzeEvents } from '../doctor/analyze.js';
import type { Finding } from '../doctor/findings.js';
import { openCapture, type OpenCaptureOptions } from '../trace/import/index.js';

/** Where a row is drawn: what the host said, what the module said, what crossed the network. */
export type Lane = 'host' | 'module' | 'network' | 'state';

export interface PageRow {
  /** Timeline index. */
  i: number;
  /** Trace event it came from (findings point at events). */
  ev: number;
  line?: number;
  t?: number;
  lane: Lane;
  dir: 'tx' | 'rx' | 'note';
  kind: string;
  text: string;
  meaning?: string;
  command?: string;
  rttMs?: number;
  outcome?: string;
  socket?: string;
  mqtt?: { type: string; text: string; fields: Record<string, string | number | boolean> }[];
}

export interface PageFinding {
  id: string;
  severity: string;
  summary: string;
  fix: string;
  /** Rows (timeline indexes) that carry its evidence. */
  rows: number[];
  evidence: { line?: number; text: string }[];
}

export interface PageData {
  title: string;
  file: string;
  format: string;
  profile: string;
  start?: string;
  rows: PageRow[];
  /** Entries left out past the row cap. */
  omitted: number;
  findings: PageFinding[];
}

export interface PageOptions extends OpenCaptureOptions {
  profile?: string;
  /** Most rows a page holds (a browser stays quick); the rest is counted. */
  maxRows?: number;
}

export const MAX_ROWS = 20_000;

function laneOf(e: TimelineEntry): Lane {
  if (e.dir === 'note') return 'state';
  return e.dir === 'tx' ? 'host' : 'module';
}

function row(e: TimelineEntry): PageRow {
  const r: PageRow = { i: e.index, ev: e.event, lane: laneOf(e), dir: e.dir, kind: e.kind, text: e.text };
  if (e.line !== undefined) r.line = e.line;
  if (e.t !== undefined) r.t = e.t;
  if (e.meaning) r.meaning = e.meaning;
  if (e.command) r.command = e.command;
  if (e.rttMs !== undefined) r.rttMs = e.rttMs;
  if (e.outcome) r.outcome = e.outcome;
  if (e.socket) r.socket = `link ${e.socket.link} ${e.socket.via} ${e.socket.bytes} B`;
  if (e.mqtt && e.mqtt.length > 0) {
    r.mqtt = e.mqtt.map((p) => {
      const fields: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(p)) {
        if (k === 'type' || k === 'text' || v === undefined) continue;
        fields[k] = Array.isArray(v) ? v.join(',') : (v as string | number | boolean);
      }
      return { type: p.type, text: p.text, fields };
    });
  }
  return r;
}

/** Decodes a capture and diagnoses it: the rows of the page and the findings pinned to them. */
export async function pageData(file: string, options: PageOptions = {}, given?: { findings: Finding[] }): Promise<PageData> {
  const maxRows = options.maxRows ?? MAX_ROWS;
  const decoded = await decodeCapture(file, options);
  const rows: PageRow[] = [];
  const byEvent = new Map<number, number[]>();
  let omitted = 0;
  for await (const batch of decoded.batches) {
    for (const e of batch) {
      if (rows.length >= maxRows) {
        omitted++;
        continue;
      }
      rows.push(row(e));
      const list = byEvent.get(e.event);
      if (list) list.push(e.index);
      else byEvent.set(e.event, [e.index]);
    }
  }
  let findings = given?.findings;
  if (!findings) {
    const capture = await openCapture(file, options);
    // The profile the page was decoded with: a family read with the 3GPP base (u-blox) has no id to load again.
    findings = (await analyzeEvents(capture.events, options.profile !== undefined ? { profile: options.profile, perLine: capture.perLine } : { moduleProfile: decoded.profile, perLine: capture.perLine })).findings;
  }
  const byLine = new Map<number, number[]>();
  for (const r of rows) if (r.line !== undefined) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r.i]);
  const pinned: PageFinding[] = findings.map((f) => {
    const at = new Set<number>();
    for (const ev of f.evidence) {
      for (const i of (ev.line !== undefined ? byLine.get(ev.line) : undefined) ?? byEvent.get(ev.index) ?? []) at.add(i);
    }
    return {
      id: f.id,
      severity: f.severity,
      summary: f.summary,
      fix: f.fix,
      rows: [...at].sort((a, b) => a - b),
      evidence: f.evidence.map((ev) => ({ ...(ev.line !== undefined ? { line: ev.line } : {}), text: ev.text })),
    };
  });
  const start = decoded.capture.header?.start;
  return {
    title: `atbridge: ${file}`,
    file,
    format: decoded.capture.format,
    profile: decoded.profile.id,
    ...(start && !start.startsWith('1970-') ? { start } : {}),
    rows,
    omitted,
    findings: pinned,
  };
}
