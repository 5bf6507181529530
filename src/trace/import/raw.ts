import type { Readable } from 'node:stream';
import { sendRequestOf } from '../../decode/send-request.js';
import type { TraceEvent } from '../events.js';

const LF = 0x0a;
const CR = 0x0d;
const PROMPT = 0x3e; // '>'
const SPACE = 0x20;
/** An event about this long is cut (a dump without line ends): memory stays bounded. */
const MAX_EVENT_BYTES = 64 * 1024;
/** Enough of a line's end to hold a send command glued to the socket data before it. */
const LINE_TAIL_CHARS = 512;
/** A send command ending a line: `+IPD,4:<data>AT+CIPSEND=12` in a merged dump is still the host's. */
const COMMAND_AT_END = /AT\+\w+=[^\r\n]*$/i;

/**
 * A raw byte dump (`cat /dev/ttyUSB2 > dump`, a logic probe's byte file): no times, one direction
 * or both merged. A merged dump goes in as rx: the conversation model recognises the host's
 * commands in it the same way it does in a transcript. The one thing it cannot tell is the
 * host's payload after a '>' prompt, so that is sent as tx here. Events end at each LF (blank
 * lines go with the next line) and at each change of direction, so a finding's event index and
 * line point at its line; streamed, never whole.
 */
export async function* importRaw(stream: Readable, direction: 'rx' | 'tx' | 'merged' = 'merged'): AsyncGenerator<TraceEvent> {
  const splitter = new RawSplitter(direction);
  for await (const chunk of stream as AsyncIterable<Buffer>) yield* splitter.push(chunk);
  yield* splitter.end();
}

class RawSplitter {
  private readonly base: 'rx' | 'tx';
  private parts: Buffer[] = [];
  private partBytes = 0;
  private partDir: 'rx' | 'tx';
  /** The event so far holds only line ends: it goes on into the next line rather than stand alone. */
  private partBlank = true;
  /** 1-based line of the event's first byte that is not a line end. */
  private eventLine = 1;
  private line = 1;
  private atLineStart = true;
  /** The current line's text so far (its end only), read when the line ends. */
  private lineTail = '';
  /** Payload length the last send command asked for: its '>' prompt is awaited. */
  private owed: number | undefined;
  /** A '>' prompt was just seen: a space after it is still the module's (the framer skips it too). */
  private afterPrompt = false;
  /** Host payload bytes still to come after the prompt. */
  private payloadLeft = 0;
  private ready: TraceEvent[] = [];

  constructor(private readonly direction: 'rx' | 'tx' | 'merged') {
    this.base = direction === 'tx' ? 'tx' : 'rx';
    this.partDir = this.base;
  }

  /** The events a chunk completes (plain arrays: a generator per event costs more than the split). */
  push(chunk: Buffer): TraceEvent[] {
    this.ready = [];
    let i = 0;
    let lineFrom = 0;
    while (i < chunk.length) {
      if (this.afterPrompt) {
        if (chunk[i] === SPACE) this.add(chunk, i, ++i, 'rx');
        this.afterPrompt = false;
        this.flush();
        continue;
      }
      if (this.payloadLeft > 0) {
        const end = Math.min(chunk.length, i + this.payloadLeft);
        this.payloadLeft -= end - i;
        this.add(chunk, i, end, 'tx');
        this.countLines(chunk, i, end);
        i = lineFrom = end;
        if (this.payloadLeft === 0) this.flush();
        continue;
      }
      if (this.atLineStart && this.owed !== undefined && chunk[i] === PROMPT) {
        // The module's prompt: the next `owed` bytes are what the host writes to it.
        this.add(chunk, i, ++i, 'rx');
        this.payloadLeft = this.owed;
        this.owed = undefined;
        this.afterPrompt = true;
        lineFrom = i;
        continue;
      }
      const stop = lineEndAt(chunk, i, Math.min(chunk.length, i + MAX_EVENT_BYTES));
      if (stop > i) {
        this.atLineStart = false;
        this.add(chunk, i, stop, this.base);
        i = stop;
        continue;
      }
      this.endLine(this.lineTail + chunk.toString('latin1', Math.max(lineFrom, i - LINE_TAIL_CHARS), i));
      lineFrom = i + 1;
      this.add(chunk, i, ++i, this.base);
      if (chunk[i - 1] === LF) {
        this.line++;
        if (!this.partBlank) this.flush();
      }
    }
    if (!this.atLineStart) this.lineTail = (this.lineTail + chunk.toString('latin1', Math.max(lineFrom, chunk.length - LINE_TAIL_CHARS))).slice(-LINE_TAIL_CHARS);
    // Keep a copy of the unfinished event, not the whole chunk it points into.
    if (this.parts.length > 0) this.parts = [Buffer.concat(this.parts)];
    return this.ready;
  }

  end(): TraceEvent[] {
    this.ready = [];
    this.flush();
    return this.ready;
  }

  /** Appends chunk[from, to) in `dir`; a change of direction or a full event ends the event first. */
  private add(chunk: Buffer, from: number, to: number, dir: 'rx' | 'tx'): void {
    if (dir !== this.partDir || this.partBytes >= MAX_EVENT_BYTES) this.flush();
    this.partDir = dir;
    if (this.partBlank && chunk[from] !== CR && chunk[from] !== LF) {
      this.partBlank = false;
      this.eventLine = this.line;
    }
    this.parts.push(chunk.subarray(from, to));
    this.partBytes += to - from;
  }

  private flush(): void {
    if (this.partBytes > 0) this.ready.push({ t: undefined, dir: this.partDir, data: Buffer.concat(this.parts), line: this.eventLine });
    this.parts = [];
    this.partBytes = 0;
    this.partBlank = true;
    this.eventLine = this.line;
  }

  /** At a line end: a send command sets the payload owed after its prompt; an error drops it. */
  private endLine(text: string): void {
    this.lineTail = '';
    this.atLineStart = true;
    if (this.direction !== 'merged') return;
    const line = text.trim();
    if (line === '') return;
    const command = COMMAND_AT_END.exec(line)?.[0] ?? (/^AT/i.test(line) ? line : undefined);
    if (command !== undefined) this.owed = payloadLength(command);
    else if (/ERROR|FAIL/.test(line)) this.owed = undefined;
  }

  private countLines(chunk: Buffer, from: number, to: number): void {
    for (let i = chunk.indexOf(LF, from); i >= 0 && i < to; i = chunk.indexOf(LF, i + 1)) this.line++;
  }
}

/** Bytes the host writes after the prompt of `command`, when it says how many. */
function payloadLength(command: string): number | undefined {
  const request = sendRequestOf(command);
  return request && !request.passthrough && request.length !== undefined && request.length > 0 ? request.length : undefined;
}

/** Index of the first CR or LF in chunk[from, to), or `to`. */
function lineEndAt(chunk: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const b = chunk[i];
    if (b === CR || b === LF) return i;
  }
  return to;
}
