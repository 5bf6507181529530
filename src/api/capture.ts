/**
 * `atbridge/capture`: traces, captured logs of every supported format, decoding and diagnosis.
 *
 * @module
 */
import { decodeCapture as decodeInternal, type DecodeOptions } from '../decode/decode-capture.js';
import type { TimelineEntry } from '../decode/timeline.js';
import { analyzeEvents } from '../doctor/analyze.js';
import { FINDING_IDS, hasError, type Evidence, type Finding, type FindingId, type Severity } from '../doctor/findings.js';
import type { Direction, TraceEvent, TraceHeader } from '../trace/events.js';
import { CAPTURE_FORMATS, openCapture, type CaptureFormat, type OpenCaptureOptions, type OpenedCapture } from '../trace/import/index.js';
import { readTrace, TraceFormatError, type TraceReadResult } from '../trace/reader.js';
import { TraceWriter, type TraceWriterOptions } from '../trace/writer.js';

export type { CaptureFormat, DecodeOptions, Direction, Evidence, Finding, FindingId, OpenCaptureOptions, OpenedCapture, Severity, TimelineEntry, TraceEvent, TraceHeader, TraceReadResult, TraceWriterOptions };
export { CAPTURE_FORMATS, FINDING_IDS, hasError, openCapture, readTrace, TraceFormatError, TraceWriter };

/** What {@link decodeCapture} yields: the capture, the profile it was read with, and its timeline. */
export interface DecodedCapture {
  /** The opened capture: its format, the profile guessed from it, its events. */
  capture: OpenedCapture;
  /** Profile id the capture was read with. */
  profile: string;
  /** Timeline entries in order (commands with answers, URCs, MQTT packets, notes), streamed. */
  entries: AsyncGenerator<TimelineEntry>;
}

/**
 * Decodes a capture of any supported format (atbridge trace, socat -v, interceptty, raw,
 * pasted transcript, logic-analyser CSV …) into a timeline, streaming.
 */
export async function decodeCapture(path: string, options: DecodeOptions = {}): Promise<DecodedCapture> {
  const decoded = await decodeInternal(path, options);
  return { capture: decoded.capture, profile: decoded.profile.id, entries: decoded.entries };
}

/** What {@link diagnoseCapture} found. */
export interface Diagnosis {
  /** Profile id the log was read with (given, or guessed from its content). */
  profile: string;
  /** Events read. */
  events: number;
  /** Findings with stable ids, severity, evidence lines and a fix. */
  findings: Finding[];
  /** True when a finding is error-level (what makes `atbridge doctor --log` exit 1). */
  failed: boolean;
}

/** Options of {@link diagnoseCapture}. */
export interface DiagnoseOptions extends OpenCaptureOptions {
  /** Profile id or path; guessed from the capture when absent. */
  profile?: string;
}

/**
 * `atbridge doctor --log` from code: reads a capture and returns typed findings.
 *
 * @example
 * ```ts
 * const { findings } = await diagnoseCapture('session.log');
 * for (const f of findings) console.log(f.id, f.summary, f.fix);
 * ```
 */
export async function diagnoseCapture(path: string, options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const capture = await openCapture(path, options);
  const analysis = await analyzeEvents(capture.events, { profile: options.profile ?? capture.profile, perLine: capture.perLine });
  return { profile: analysis.profile, events: analysis.events, findings: analysis.findings, failed: hasError(analysis.findings) };
}
