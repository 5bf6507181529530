import { randomBytes } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import type { Tap } from '../transport/tap.js';
import { TOOL } from '../version.js';
import type { TraceEvent, TraceHeader } from './events.js';
import { TRACE_VERSION, toRecord } from './events.js';
import { IdentifierStream } from './identifiers.js';
import { Redactor, StreamRedactor } from './redact.js';

/** Options of {@link TraceWriter}: what the header records and which secrets to mask. */
export interface TraceWriterOptions {
  profile?: string;
  baud?: number;
  device?: string;
  source?: string;
  /** Known secrets (Wi-Fi, MQTT, PIN) masked wherever they appear. */
  secrets?: (string | undefined)[];
  /** Redaction is on unless explicitly turned off (never do that for traces you share). */
  redact?: boolean;
  /** End a given sink on close (the flight recorder's); a path is always closed. */
  ownsSink?: boolean;
  /** Clock for `t`; defaults to time since the writer was created. */
  now?: () => number;
}

/**
 * Where trace lines go: a file stream, any Writable, or the flight recorder's rolling set.
 * The first line written is always the header.
 */
export interface TraceSink {
  write(text: string): unknown;
  end(done: () => void): unknown;
}

/** Held-back bytes (a possible secret split across chunks) are written after this long at most. */
const HOLD_FLUSH_MS = 50;

/**
 * Writes a trace as JSON Lines. It is a Tap, so it can sit on any Link.
 * A path is appended to, never truncated: a new session (a bridge reconnecting, a second run)
 * adds its own header line after the earlier sessions, which the reader turns into a
 * "new session" note, so the trace of a failed session is still there when it reconnects.
 */
export class TraceWriter implements Tap {
  private readonly out: TraceSink;
  private readonly ownsStream: boolean;
  private readonly now: () => number;
  private readonly redactors: { tx: StreamRedactor; rx: StreamRedactor } | undefined;
  private readonly identifiers: IdentifierStream | undefined;
  private readonly holdTimers: { tx?: NodeJS.Timeout; rx?: NodeJS.Timeout } = {};
  /** When the bytes now held back arrived: they are written with this time, as their own event. */
  private readonly heldAt: { tx: number; rx: number } = { tx: 0, rx: 0 };
  private closed = false;
  events = 0;

  /** True when the path already held a trace and this session was appended after it. */
  readonly appended: boolean;

  constructor(target: string | TraceSink, options: TraceWriterOptions = {}) {
    this.ownsStream = typeof target === 'string' || options.ownsSink === true;
    this.appended = typeof target === 'string' && fileSize(target) > 0;
    if (typeof target === 'string') {
      const file = createWriteStream(target, { flags: 'a' });
      // A full disk or a removed directory must not end the process: the trace stops, the session goes on.
      file.on('error', () => (this.closed = true));
      this.out = file;
    } else this.out = target;
    const start = performance.now();
    this.now = options.now ?? (() => performance.now() - start);
    const redact = options.redact !== false;
    if (redact) {
      const redactor = new Redactor(options.secrets ?? []);
      this.identifiers = new IdentifierStream((value) => redactor.learnIdentifier(value));
      this.redactors = { tx: new StreamRedactor(redactor), rx: new StreamRedactor(redactor, this.identifiers) };
    }
    const header: TraceHeader = { type: 'atbridge-trace', version: TRACE_VERSION, tool: TOOL, start: new Date().toISOString(), session: randomBytes(4).toString('hex') };
    if (options.profile) header.profile = options.profile;
    if (options.baud) header.baud = options.baud;
    if (options.device) header.device = options.device;
    if (options.source) header.source = options.source;
    header.redacted = redact;
    this.out.write(`${JSON.stringify(header)}\n`);
  }

  /** Records bytes the host sent. */
  tx(data: Buffer): void {
    this.bytes('tx', data);
  }

  /** Records bytes the module sent. */
  rx(data: Buffer): void {
    this.bytes('rx', data);
  }

  /** Records a note (a state change, a resync, a fault). */
  note(text: string, fields?: Record<string, unknown>): void {
    this.write({ t: this.now(), dir: 'note', data: Buffer.from(text, 'utf8'), ...(fields ? { fields } : {}) });
  }

  /** Writes an event as given (importers, replay); tx/rx data still passes the redactor. */
  event(event: TraceEvent): void {
    if (event.dir === 'note' || !this.redactors) this.write(event);
    else {
      if (event.dir === 'tx') this.identifiers?.noteTx(event.data);
      const data = this.redactors[event.dir].push(event.data);
      const rest = this.redactors[event.dir].flush();
      this.write({ ...event, data: rest.length > 0 ? Buffer.concat([data, rest]) : data });
    }
  }

  private bytes(dir: 'tx' | 'rx', data: Buffer): void {
    if (this.closed) return;
    const t = this.now();
    if (!this.redactors) {
      this.write({ t, dir, data });
      return;
    }
    // The other side answered, so what it held back was sent before: write it first (a secret
    // split there is still masked: a sensitive line by its open-line state, a CONNECT by field).
    const other = dir === 'tx' ? 'rx' : 'tx';
    if (this.redactors[other].hasPending) {
      clearTimeout(this.holdTimers[other]);
      this.flushHeld(other);
    }
    if (dir === 'tx') this.identifiers?.noteTx(data);
    const redactor = this.redactors[dir];
    const held = redactor.pendingLength;
    const heldAt = this.heldAt[dir];
    const ready = redactor.push(data);
    // The held tail belongs to the earlier chunk: its own event with its own time, never joined
    // with this chunk (a payload's last bytes and the next AT+CIPSEND are two events, as sent).
    const split = redactor.heldOutput;
    if (split > 0) this.write({ t: heldAt, dir, data: Buffer.from(ready.subarray(0, split)) });
    if (ready.length > split) this.write({ t, dir, data: split > 0 ? Buffer.from(ready.subarray(split)) : ready });
    // Bytes still held that came (in part) from this chunk carry this chunk's time.
    if (redactor.pendingLength > 0 && (held === 0 || redactor.releasedHeld)) this.heldAt[dir] = t;
    clearTimeout(this.holdTimers[dir]);
    if (redactor.hasPending) {
      this.holdTimers[dir] = setTimeout(() => this.flushHeld(dir), HOLD_FLUSH_MS);
      this.holdTimers[dir].unref();
    }
  }

  private flushHeld(dir: 'tx' | 'rx'): void {
    const rest = this.redactors?.[dir].flush();
    if (rest && rest.length > 0) this.write({ t: this.heldAt[dir], dir, data: rest });
  }

  private write(event: TraceEvent): void {
    if (this.closed) return;
    this.events++;
    this.out.write(`${JSON.stringify(toRecord(event))}\n`);
  }

  /** Flushes held-back bytes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const dir of ['tx', 'rx'] as const) {
      clearTimeout(this.holdTimers[dir]);
      this.flushHeld(dir);
    }
    this.closed = true;
    if (!this.ownsStream) return;
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
