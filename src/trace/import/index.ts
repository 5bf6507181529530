import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { fsReason } from '../../fs-reason.js';
import type { TraceEvent, TraceHeader } from '../events.js';
import { TRACE_VERSION } from '../events.js';
import { flatten, readTrace, TraceFormatError } from '../reader.js';
import { TOOL } from '../../version.js';
import { Readable } from 'node:stream';
import { isPcapFile } from './pcap-file.js';
import { importUsbmon, selectUsbInterface } from './usbmon.js';
import { concatGzip, isGzip, openTraceSet } from '../trace-set.js';
import { detectFormat } from './detect.js';
import { guessProfile } from './guess-profile.js';
import { listProfileIds } from '../../profile/index.js';
import { importInterceptty } from './interceptty.js';
import { importLogicCsv } from './logic-csv.js';
import { importRaw } from './raw.js';
import { importSocat } from './socat.js';
import { importTranscript } from './transcript.js';
import { arrowsFlipped } from './transcript-markers.js';
import { hasSendAtPrints } from './readers/send-at.js';
import { carriesTraffic } from './line-kind.js';
import { CAPTURE_FORMATS, type CaptureFormat, type ImportOptions, type OpenedCapture, type ProfileGuess } from './types.js';

export { CAPTURE_FORMATS, detectFormat, guessProfile };
export type { CaptureFormat, ImportOptions, OpenedCapture, ProfileGuess };

/** Values of `--direction` for raw dumps (ImportOptions.rawDirection). */
export const RAW_DIRECTIONS = ['rx', 'tx', 'merged'] as const;

/** How much of the file is read up front to detect the format and guess the profile. */
const HEAD_BYTES = 256 * 1024;

/** Options of {@link openCapture}: the format (auto-detected by default) and importer settings. */
export interface OpenCaptureOptions extends ImportOptions {
  format?: CaptureFormat | 'auto';
}

/**
 * Opens any supported capture as a stream of trace events (constant memory): detects the
 * format unless given, guesses the profile from the content unless the header names one.
 * A missing file or a malformed one fails with one line (AtbridgeError, exit code badInput).
 */
export async function openCapture(path: string, options: OpenCaptureOptions = {}): Promise<OpenedCapture> {
  return open1(path, options, true);
}

/** `checkTraffic` false: the second, scanning read of a capture whose first part held no AT traffic. */
async function open1(path: string, options: OpenCaptureOptions, checkTraffic: boolean): Promise<OpenedCapture> {
  const requested = options.format ?? 'auto';
  if (requested !== 'auto' && !(CAPTURE_FORMATS as readonly string[]).includes(requested)) {
    throw new AtbridgeError('bad-option', `--format must be auto or one of ${CAPTURE_FORMATS.join(', ')}, not "${String(requested)}"`, { exitCode: ExitCode.usage });
  }
  if (options.rawDirection !== undefined && !(RAW_DIRECTIONS as readonly string[]).includes(options.rawDirection)) {
    throw new AtbridgeError('bad-option', `--direction must be one of ${RAW_DIRECTIONS.join(', ')}, not "${String(options.rawDirection)}"`, { exitCode: ExitCode.usage });
  }
  let size: number;
  let directory = false;
  try {
    const info = await stat(path);
    directory = info.isDirectory();
    if (!info.isFile() && !directory) throw new AtbridgeError('bad-input', `${path} is not a file`, { exitCode: ExitCode.badInput });
    size = info.size;
    // Here, not at the first read: an unreadable file is the same one line as a missing one.
    await access(path, directory ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (err) {
    if (err instanceof AtbridgeError) throw err;
    throw new AtbridgeError('bad-input', `cannot read ${path}: ${fsReason(err)}`, { exitCode: ExitCode.badInput });
  }
  let read = 0;
  let head: Buffer;
  let stream: Readable;
  if (directory) {
    // A flight-recorder directory (--trace-dir): its compressed segments read in order as one trace.
    const set = openTraceSet(path, (n) => (read += n));
    if (set.files === 0) throw new AtbridgeError('bad-input', `${path} holds no trace segments (trace-NNNNNN-….jsonl.gz)`, { exitCode: ExitCode.badInput });
    size = set.bytes;
    head = Buffer.from('{"type":"atbridge-trace"}\n');
    stream = set.stream;
  } else {
    head = await readHead(path);
    if (isGzip(head)) {
      // One compressed segment, or a trace someone gzipped.
      stream = concatGzip([path], (n) => (read += n));
      head = Buffer.from('{"type":"atbridge-trace"}\n');
    } else if (isPcapFile(head)) {
      // A usbmon capture is read by packets, twice (endpoints picked first): no shared stream.
      stream = Readable.from([]);
    } else {
      const file = createReadStream(path, { highWaterMark: 1 << 18 });
      file.on('data', (chunk) => (read += chunk.length));
      stream = file;
    }
  }
  const format = requested === 'auto' ? (isPcapFile(head) && !directory ? 'usbmon' : detectFormat(head, path)) : requested;
  const source = `${format}:${basename(path)}`;
  const made: TraceHeader = { type: 'atbridge-trace', version: TRACE_VERSION, tool: TOOL, start: new Date(0).toISOString(), source };

  let header: TraceHeader | undefined = made;
  let events: AsyncGenerator<TraceEvent> | undefined;
  /** JSONL is read a chunk of events at a time; the importers give one event at a time. */
  let batches: AsyncGenerator<TraceEvent[]> | undefined;
  switch (format) {
    case 'jsonl': {
      const trace = await readTrace(stream).catch((err: unknown) => {
        throw badFile(path, format, err);
      });
      header = trace.header;
      batches = trace.batches;
      break;
    }
    case 'raw':
      events = importRaw(stream, options.rawDirection);
      break;
    case 'socat':
      events = importSocat(stream);
      break;
    case 'interceptty':
      events = importInterceptty(stream);
      break;
    case 'logic-csv':
      events = importLogicCsv(stream);
      break;
    case 'usbmon': {
      const selection = await selectUsbInterface(path, options.usbInterface).catch((err: unknown) => {
        throw err instanceof AtbridgeError ? err : badFile(path, format, err);
      });
      made.start = new Date(Number(selection.startUs / 1000n)).toISOString();
      events = importUsbmon(path, selection, (n) => (read += n));
      break;
    }
    case 'transcript':
      events = importTranscript(stream, {
        fenced: /^\s*(?:```|~~~)/m.test(head.toString('latin1')),
        arrowsFlipped: arrowsFlipped(head.toString('latin1')),
        sendAt: hasSendAtPrints(head.toString('latin1')),
      });
      break;
  }
  const named = header?.profile;
  const all = guarded(batches ?? singles(events!), path, format, () => stream.destroy());
  // Guess from decoded bytes, not the file: interceptty and CSV spell one byte per line.
  const { sample, rest, ended } = await peekEvents(all, SAMPLE_BYTES);
  // Nothing to decode, diagnose or replay (no bytes, blank lines, a trace header alone, garbage, a
  // page of prose): say so, rather than an empty timeline and "no problems". The first part is
  // enough almost always; past it, one more read of the file looks for a first line of traffic.
  if (checkTraffic && !hasTraffic(sample) && (ended || !(await trafficLater(path, { ...options, format })))) {
    stream.destroy();
    await rest.return(undefined);
    throw noTraffic(path, format);
  }
  const sampleText = Buffer.concat(sample.filter((e) => e.dir !== 'note').map((e) => e.data)).toString('latin1');
  // A trace recorded with --profile auto names the profile in the note where the module was identified.
  const identified = sample.map((e) => (e.dir === 'note' ? /identified as ([\w.-]+)/.exec(e.data.toString('utf8'))?.[1] : undefined)).find(Boolean);
  const shipped = listProfileIds();
  const known = [named, identified].find((p): p is ProfileGuess => p !== undefined && shipped.includes(p));
  const profile: ProfileGuess = known ?? guessProfile(sampleText, head);
  return {
    format,
    header,
    profile,
    perLine: format === 'transcript',
    size,
    bytesRead: () => read,
    events: flatten(rest),
    batches: rest,
    sampleText: `${Buffer.concat(sample.map((e) => e.data)).toString('latin1')}`,
  };
}

/** One event at a time as batches of one. */
async function* singles(events: AsyncGenerator<TraceEvent>): AsyncGenerator<TraceEvent[]> {
  for await (const event of events) yield [event];
}

/** Turns a parse failure deep in a stream into one clear line naming the file and format. */
async function* guarded(batches: AsyncGenerator<TraceEvent[]>, path: string, format: CaptureFormat, close: () => void): AsyncGenerator<TraceEvent[]> {
  try {
    yield* batches;
  } catch (err) {
    throw badFile(path, format, err);
  } finally {
    close();
  }
}

/** The one line for a capture with no line of AT traffic in it (exit code 23). */
export function noTraffic(path: string, format: CaptureFormat): AtbridgeError {
  return new AtbridgeError('no-traffic', `no AT traffic found in ${path} (read as ${format})`, { exitCode: ExitCode.badInput });
}

/**
 * True when a line of the host's or the module's data, or of a library's debug print, carries AT
 * traffic (line-kind.ts decides), or the host program says the module did not answer (a verdict
 * on AT traffic the doctor reports). A line read as prose counts by traffic after a label only;
 * source code and our own state-change notes never count.
 */
export function hasTraffic(events: readonly TraceEvent[]): boolean {
  return events.some((e) => {
    if (e.dir === 'note' && e.fields?.noAnswer === true) return true;
    const read = e.dir === 'note' ? e.fields?.read : 'traffic';
    if (read !== 'traffic' && read !== 'debug' && read !== 'prose') return false;
    return e.data.toString('latin1').split(/[\r\n]+/).some((line) => carriesTraffic(line, read === 'prose'));
  });
}

/** Reads the capture again, past its first part, until a line of traffic (constant memory). */
async function trafficLater(path: string, options: OpenCaptureOptions): Promise<boolean> {
  const again = await open1(path, options, false);
  try {
    for await (const batch of again.batches) if (hasTraffic(batch)) return true;
    return false;
  } finally {
    await again.batches.return(undefined);
  }
}

function badFile(path: string, format: CaptureFormat, err: unknown): AtbridgeError {
  const why = err instanceof TraceFormatError || err instanceof Error ? err.message : String(err);
  return new AtbridgeError('bad-input', `${path} is not a valid ${format} capture: ${why}`, {
    exitCode: ExitCode.badInput,
    fix: format === 'jsonl' ? 'pass --format to read it as another format (transcript, raw, socat, interceptty, logic-csv)' : undefined,
    cause: err,
  });
}

const SAMPLE_BYTES = 64 * 1024;

/**
 * Reads events until `maxBytes` of data, and gives back a stream that replays them first (the
 * rest of the batch the sample ended in, then the batches after it).
 */
async function peekEvents(batches: AsyncGenerator<TraceEvent[]>, maxBytes: number): Promise<{ sample: TraceEvent[]; rest: AsyncGenerator<TraceEvent[]>; ended: boolean }> {
  const sample: TraceEvent[] = [];
  let bytes = 0;
  let ended = false;
  let left: TraceEvent[] = [];
  while (bytes < maxBytes && sample.length < 10_000) {
    if (left.length === 0) {
      const next = await batches.next();
      if (next.done) {
        ended = true;
        break;
      }
      left = next.value;
      continue;
    }
    // Event by event, so the sample is the same however the events were batched.
    let i = 0;
    while (i < left.length && bytes < maxBytes && sample.length < 10_000) {
      const event = left[i++]!;
      sample.push(event);
      bytes += event.data.length;
    }
    left = left.slice(i);
  }
  async function* rest(): AsyncGenerator<TraceEvent[]> {
    try {
      if (sample.length > 0) yield [...sample, ...left];
      else if (left.length > 0) yield left;
      if (!ended) yield* batches;
    } finally {
      await batches.return(undefined);
    }
  }
  return { sample, rest: rest(), ended: ended && left.length === 0 };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
