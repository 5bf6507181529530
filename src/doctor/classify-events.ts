import type { ClassifiedLine, CommandContext } from '../at/classify.js';
import { classifyLine, looksLikeCommand, responsePrefixFor, sameCommand, splitGluedEcho } from '../at/classify.js';
import type { Frame } from '../at/framer.js';
import { AtFramer } from '../at/framer.js';
import type { ModuleProfile } from '../profile/index.js';
import type { TraceEvent } from '../trace/events.js';

/** One thing that happened on the line, classified: the unit every doctor rule reads. */
export interface ClassifiedEvent {
  /** Index of the trace event it came from (evidence). */
  index: number;
  /** Line number in the original file, when the source had one. */
  line: number | undefined;
  t: number | undefined;
  dir: 'tx' | 'rx' | 'note';
  kind: ClassifiedLine['kind'] | 'prompt' | 'block' | 'data' | 'note';
  text: string;
  /** The host command this belongs to (in flight when it arrived). */
  command: string | undefined;
  classified?: ClassifiedLine;
  fields?: Record<string, unknown>;
}

export interface ClassifyOptions {
  /** Each event is one whole line (imported transcripts): end it even without CR/LF. */
  perLine?: boolean;
}

/**
 * Turns trace events into classified events with the AT layer's own framer and classifier, so the
 * doctor reads a log exactly as the driver would have read the wire. Host lines that look like
 * commands set the command context; in a transcript without directions an echoed command does.
 */
export class EventClassifier {
  private readonly framer: AtFramer;
  private context: CommandContext | undefined;
  private current: TraceEvent | undefined;
  private currentIndex = 0;
  private out: ClassifiedEvent[] = [];
  private txCarry = '';
  /** Bytes the host still owes after a '>' prompt (a send's payload is not a command). */
  private inData = false;

  constructor(
    private readonly profile: ModuleProfile,
    private readonly options: ClassifyOptions = {},
  ) {
    this.framer = new AtFramer(profile, (frame) => this.onFrame(frame));
  }

  push(event: TraceEvent, index: number): ClassifiedEvent[] {
    this.out = [];
    this.current = event;
    this.currentIndex = index;
    if (event.dir === 'note') {
      this.emit('note', 'note', event.data.toString('utf8'), undefined, event.fields);
    } else if (event.dir === 'tx') {
      this.onTx(event.data);
    } else {
      this.framer.push(event.data);
      if (this.options.perLine && !/[\r\n]$/.test(event.data.toString('latin1'))) this.framer.push(Buffer.from('\r\n'));
    }
    return this.out;
  }

  /** End of the capture: whatever half-line is left. */
  flush(): ClassifiedEvent[] {
    this.out = [];
    this.framer.flush();
    if (this.txCarry.trim()) this.txLine(this.txCarry);
    this.txCarry = '';
    return this.out;
  }

  private onTx(data: Buffer): void {
    const text = data.toString('latin1');
    // A transcript may not show the payload at all: a command line means it is over (as decode reads it).
    if (this.inData && this.options.perLine && looksLikeCommand(text.trim())) this.inData = false;
    if (this.inData) {
      this.inData = false;
      this.emit('tx', 'data', text);
      return;
    }
    // A host write is usually one whole command; split on line ends anyway (pasted transcripts).
    const all = this.txCarry + text;
    const parts = all.split(/\r\n|\r|\n/);
    this.txCarry = parts.pop() ?? '';
    if (this.options.perLine && this.txCarry) {
      parts.push(this.txCarry);
      this.txCarry = '';
    }
    for (const part of parts) if (part.trim()) this.txLine(part);
    // Escape sequences and payload carry no line end: keep them visible right away.
    if (this.txCarry && !looksLikeCommand(this.txCarry)) {
      this.emit('tx', 'data', this.txCarry);
      this.txCarry = '';
    }
  }

  private txLine(text: string): void {
    if (looksLikeCommand(text)) {
      this.startCommand(text.trim(), true);
      this.emit('tx', 'command', text.trim());
    } else {
      this.emit('tx', 'data', text);
    }
  }

  private startCommand(text: string, echoPending: boolean): void {
    this.context = { text, responsePrefix: responsePrefixFor(text), finals: [], echoPending };
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'prompt':
        this.emit('rx', 'prompt', '>');
        // A prompt means the host sends payload next.
        this.inData = true;
        return;
      case 'block':
        this.emit('rx', 'block', `${frame.header}${frame.data.toString('latin1')}`);
        return;
      case 'data':
        this.emit('rx', 'data', frame.data.toString('latin1'));
        return;
      case 'line':
        this.onLine(frame.text);
    }
  }

  private onLine(text: string): void {
    if (this.context?.echoPending) {
      const parts = splitGluedEcho(text, this.context.text);
      if (parts) {
        this.onLine(parts[0]);
        this.onLine(parts[1]);
        return;
      }
    }
    if (text.trim() === '') return;
    const line = classifyLine(text, this.profile, this.context);
    if (line.kind === 'echo' && this.context) {
      // An "echo" that is not this command is the next command, seen only as an echo (no tx side).
      if (this.context.echoPending && sameCommand(text.trim(), this.context.text)) this.context.echoPending = false;
      else if (!sameCommand(text.trim(), this.context.text)) this.startCommand(text.trim(), false);
    } else if (line.kind === 'command') {
      this.startCommand(text.trim(), false);
    }
    this.emit('rx', line.kind, text, line);
    if (line.kind === 'final') this.context = undefined;
  }

  private emit(dir: ClassifiedEvent['dir'], kind: ClassifiedEvent['kind'], text: string, classified?: ClassifiedLine, fields?: Record<string, unknown>): void {
    const event = this.current;
    const out: ClassifiedEvent = {
      index: this.currentIndex,
      line: event?.line,
      t: event?.t,
      dir,
      kind,
      text,
      command: this.context?.text,
    };
    if (classified) out.classified = classified;
    if (fields) out.fields = fields;
    this.out.push(out);
  }
}

/** Printable form of a line for evidence (control bytes escaped, trimmed, at most 160 chars). */
export function evidenceText(text: string): string {
  const shown = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\r?\n$/, '').trim();
  return shown.length > 160 ? `${shown.slice(0, 157)}...` : shown;
}
