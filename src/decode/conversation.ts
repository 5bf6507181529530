import type { ClassifiedLine, CommandContext } from '../at/classify.js';
import { classifyLine, looksLikeCommand, responsePrefixFor, sameCommand, splitGluedEcho } from '../at/classify.js';
import type { Frame } from '../at/framer.js';
import { AtFramer } from '../at/framer.js';
import type { ModuleProfile } from '../profile/index.js';
import { commandName } from '../profile/index.js';
import type { TraceEvent } from '../trace/events.js';
import { KnownIdentifiers, maskIdentifierLine } from '../trace/identifiers.js';
import { redactCommandLine, redactMqttConnect } from '../trace/redact.js';
import { busyMeaning, meaningOfAnswer } from './meaning.js';
import { SocketDecoder } from './mqtt-stream.js';
import { printable } from './printable.js';
import { opensDataMode, type SendRequest, sendRequestOf } from './send-request.js';
import type { EntryKind, MqttSummary, SocketData, TimelineEntry } from './timeline.js';

export interface ConversationOptions {
  /** Each event is one whole line (imported transcripts): end a line at each event. */
  perLine?: boolean;
  /** Keep each entry's raw text and line classification for `detailOf` (the doctor's rules need them). */
  details?: boolean;
}

/**
 * What an entry was made from: the bytes as latin1 text (secrets included: the entry's own text
 * masks them), and the classifier's reading of a line.
 */
export interface EntryDetail {
  raw: string;
  classified?: ClassifiedLine;
}

/** Host payload still owed after a '>' prompt. */
interface PayloadExpected {
  request: SendRequest;
  /** Bytes still to come; undefined = until Ctrl-Z (0x1A). */
  remaining: number | undefined;
}

const CTRL_Z = 0x1a;

/**
 * The offline (and live) conversation model: trace events in, timeline entries out. It frames
 * the module's bytes with the AT layer's own framer, tracks the host's commands so classifyLine
 * knows what is in flight (echo, answer, final, URC), times each command's round trip, follows
 * send payloads, received-data blocks and transparent mode, and decodes the MQTT they carry.
 * When only the module's side was captured (pasted logs, merged dumps) it infers the commands
 * from their echoes. Feed it event by event; it holds no more than the current line.
 */
export class Conversation {
  private readonly framer: AtFramer;
  private readonly sockets = new SocketDecoder();
  private context: CommandContext | undefined;
  /** The command in flight as shown: passwords masked (a pasted log still holds them). */
  private shownCommand = '';
  private commandT: number | undefined;
  private request: SendRequest | undefined;
  private payload: PayloadExpected | undefined;
  private transparent: { link: string } | undefined;
  private txCarry = '';
  /** The link of the last transparent session (ATO resumes it). */
  private transparentLink = '0';
  /**
   * A data-mode open answered OK, its CONNECT still to come (SIM800's CIPSTART in CIPMODE=1,
   * SIM7080's CASWITCH): that CONNECT line starts data mode though the command has ended.
   */
  private openedOk: string | undefined;
  private out: TimelineEntry[] = [];
  /** Identifiers the module has answered with (masked wherever they come again). */
  private readonly known = new KnownIdentifiers();
  private readonly details: WeakMap<TimelineEntry, EntryDetail> | undefined;
  private nextIndex = 0;
  /** Command lines seen, with their response prefix, masked text and send request (none is changed once made). */
  private readonly commandsRead = new Map<string, { responsePrefix: string | undefined; shown: string; request: SendRequest | undefined }>();
  private current: { event: TraceEvent; index: number } | undefined;

  constructor(
    readonly profile: ModuleProfile,
    private readonly options: ConversationOptions = {},
  ) {
    this.framer = new AtFramer(profile, (frame) => this.onFrame(frame));
    if (options.details) this.details = new WeakMap();
  }

  /** The raw text and classification behind an entry (only with the `details` option). */
  detailOf(entry: TimelineEntry): EntryDetail | undefined {
    return this.details?.get(entry);
  }

  /** The command waiting for its final result, if any. */
  get inFlight(): string | undefined {
    return this.context?.text;
  }

  get inTransparentMode(): boolean {
    return this.transparent !== undefined;
  }

  push(event: TraceEvent, eventIndex: number): TimelineEntry[] {
    this.out = [];
    this.current = { event, index: eventIndex };
    if (event.dir === 'note') {
      const entry = this.entry('note', 'note', event.data.toString('utf8'));
      if (event.fields) entry.fields = event.fields;
      this.onNote(event);
    } else if (event.dir === 'tx') {
      this.onTx(event.data);
    } else {
      this.onRx(event.data);
    }
    return this.out;
  }

  /** End of the capture: a half line or a block cut short. */
  flush(): TimelineEntry[] {
    this.out = [];
    this.framer.flush();
    if (this.txCarry.trim()) this.txLine(this.txCarry);
    this.txCarry = '';
    return this.out;
  }

  // ---- host side ---------------------------------------------------------------------------

  private onTx(data: Buffer): void {
    let rest = data;
    while (rest.length > 0) {
      // A transcript shows no passthrough data, and its next command means that session is over.
      if (this.transparent && this.options.perLine && looksLikeCommand(rest.toString('latin1').trim())) this.leaveTransparent();
      if (this.transparent) {
        if (rest.toString('latin1').trim() === this.profile.data.escape.sequence) {
          this.leaveTransparent();
          this.entry('tx', 'data', rest.toString('latin1').trim(), { raw: rest }).meaning = 'escape from transparent mode';
        } else this.socketEntry('tx', rest, { link: this.transparent.link, via: 'transparent', bytes: rest.length }, 'up');
        return;
      }
      // A transcript may not show the payload at all: a command line means it is over.
      if (this.payload && this.options.perLine && looksLikeCommand(rest.toString('latin1').trim())) this.payload = undefined;
      if (this.payload) {
        rest = this.takePayload(rest);
        continue;
      }
      this.onTxText(rest.toString('latin1'));
      return;
    }
  }

  /** Host bytes after a '>' prompt: exactly N, or up to Ctrl-Z, or (transcripts) the whole line. */
  private takePayload(data: Buffer): Buffer {
    const p = this.payload!;
    let take: number;
    let done = false;
    if (this.options.perLine) {
      take = data.length;
      done = true;
    } else if (p.remaining === undefined) {
      const z = data.indexOf(CTRL_Z);
      take = z < 0 ? data.length : z + 1;
      done = z >= 0;
    } else {
      take = Math.min(p.remaining, data.length);
      p.remaining -= take;
      done = p.remaining === 0;
    }
    const chunk = data.subarray(0, take);
    const body = p.remaining === undefined && done && !this.options.perLine ? chunk.subarray(0, chunk.length - 1) : chunk;
    if (p.request.socket) {
      this.socketEntry('tx', body, { link: p.request.link, via: 'send', bytes: body.length }, 'up');
    } else {
      const e = this.entry('tx', 'data', printable(body), { raw: body });
      e.meaning = `${body.length} bytes of payload for ${commandName(p.request.command)}`;
    }
    if (done) this.payload = undefined;
    return data.subarray(take);
  }

  private onTxText(text: string): void {
    // A host write is usually one whole command; split on line ends anyway (pasted transcripts).
    const parts = (this.txCarry + text).split(/\r\n|\r|\n/);
    this.txCarry = parts.pop() ?? '';
    if (this.options.perLine && this.txCarry) {
      parts.push(this.txCarry);
      this.txCarry = '';
    }
    for (const part of parts) if (part.trim()) this.txLine(part);
    // An escape sequence or payload has no line end: show it now rather than hold it.
    if (this.txCarry && !looksLikeCommand(this.txCarry) && !/^a(?:t[^\r\n]*)?$/i.test(this.txCarry)) {
      const carry = this.txCarry;
      this.txCarry = '';
      this.txLine(carry);
    }
  }

  private txLine(text: string): void {
    const trimmed = text.trim();
    if (looksLikeCommand(trimmed)) {
      this.startCommand(trimmed, true);
      this.entry('tx', 'command', this.shownCommand, { raw: text });
      return;
    }
    const e = this.entry('tx', 'data', printable(text), { raw: text });
    if (trimmed === this.profile.data.escape.sequence) e.meaning = 'escape from transparent mode';
  }

  private startCommand(text: string, echoPending: boolean): void {
    this.openedOk = undefined;
    // A capture repeats the same few command lines: what each means is worked out once.
    let read = this.commandsRead.get(text);
    if (read === undefined) {
      if (this.commandsRead.size >= 1024) this.commandsRead.clear();
      read = { responsePrefix: responsePrefixFor(text), shown: redactCommandLine(text), request: sendRequestOf(text) };
      this.commandsRead.set(text, read);
    }
    this.context = { text, responsePrefix: read.responsePrefix, finals: [], echoPending };
    this.shownCommand = read.shown;
    this.commandT = this.current?.event.t;
    this.request = read.request;
  }

  // ---- module side -------------------------------------------------------------------------

  private onRx(data: Buffer): void {
    this.framer.push(data);
    if (this.options.perLine && !this.framer.inDataMode) {
      const last = data[data.length - 1];
      if (last !== 0x0a && last !== 0x0d) this.framer.push(Buffer.from('\r\n'));
    }
  }

  private onNote(event: TraceEvent): void {
    // Our own traces note state changes: follow the modem's transparent mode exactly.
    const text = event.data.toString('utf8');
    if (!text.startsWith('state ')) return;
    const to = /→ (\S+):/.exec(text)?.[1];
    if (to === 'socket-transparent' && !this.transparent) this.enterTransparent(this.request?.link ?? '0');
    else if (to && to !== 'socket-transparent' && this.transparent) this.leaveTransparent();
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'prompt':
        this.onPrompt();
        return;
      case 'block': {
        const link = frame.groups.id ?? frame.groups.link ?? this.request?.link ?? '0';
        const via = frame.purpose === 'read' ? 'read' : 'push';
        const socket: SocketData = { link, via, bytes: frame.data.length, header: frame.header.trim() };
        if (!frame.complete) socket.truncated = true;
        this.socketEntry('rx', frame.data, socket, 'down');
        return;
      }
      case 'data':
        this.onTransparentData(frame.data);
        return;
      case 'line': {
        // A `+IPD5` header line is shown with its block. The framer matched the line as it is:
        // only one with blanks around it needs matching again, trimmed.
        const trimmed = frame.text.trim();
        if (trimmed !== '' && (trimmed.length === frame.text.length ? frame.blockHeader : this.profile.matchLineBlock(trimmed))) return;
        this.onLine(frame.text);
      }
    }
  }

  private onPrompt(): void {
    const e = this.entry('rx', 'prompt', '>');
    const request = this.request;
    if (!request) {
      e.meaning = 'prompt: the module waits for data';
      return;
    }
    if (request.passthrough) {
      // ESP-AT AT+CIPSEND without arguments in CIPMODE=1: everything after '>' is socket data.
      e.meaning = 'prompt: transparent (passthrough) mode starts';
      this.enterTransparent(request.link);
      return;
    }
    e.meaning = request.length !== undefined ? `prompt: send ${request.length} bytes` : 'prompt: send data, end with Ctrl-Z';
    this.payload = { request, remaining: request.length };
  }

  private onTransparentData(data: Buffer): void {
    // The module ends transparent mode on its own when the peer closes.
    const text = data.toString('latin1');
    const end = /\r\n(?:CLOSED|NO CARRIER)\r\n$/.exec(text);
    const body = end ? data.subarray(0, end.index) : data;
    if (body.length > 0) this.socketEntry('rx', body, { link: this.transparent?.link ?? '0', via: 'transparent', bytes: body.length }, 'down');
    if (end) {
      this.leaveTransparent();
      this.framer.push(data.subarray(end.index));
    }
  }

  private enterTransparent(link: string, fresh = true): void {
    this.transparent = { link };
    this.transparentLink = link;
    this.payload = undefined;
    if (fresh) this.sockets.reset(link);
    this.framer.setDataMode(true);
  }

  private leaveTransparent(): void {
    this.transparent = undefined;
    this.framer.setDataMode(false);
  }

  private onLine(text: string): void {
    if (!this.context || this.context.echoPending) {
      const parts = splitGluedEcho(text, this.context?.text);
      if (parts) {
        this.onLine(parts[0]);
        this.onLine(parts[1]);
        return;
      }
    }
    if (text.trim() === '') return;
    const line = classifyLine(text, this.profile, this.context);
    const trimmed = text.trim();
    if (line.kind === 'command' || (line.kind === 'echo' && this.context && !sameCommand(trimmed, this.context.text))) {
      // Only the echo shows this command: the host's side was not captured.
      this.startCommand(trimmed, false);
      const e = this.entry('tx', 'command', this.shownCommand, { raw: text, classified: line });
      e.inferred = true;
      if (line.reboot) e.reboot = true;
      return;
    }
    if (line.kind === 'echo' && this.context) this.context.echoPending = false;
    const e = this.lineEntry(line);
    if (this.isTransparentConnect(trimmed)) {
      e.kind = 'final';
      e.outcome = 'connect';
      e.meaning = 'transparent mode: socket data from here until +++';
    }
    if (e.kind === 'final') {
      if (this.context && this.commandT !== undefined && e.t !== undefined) e.rttMs = Math.round((e.t - this.commandT) * 1000) / 1000;
      this.afterFinal(e);
    }
    if (line.kind === 'urc' && line.urc?.event === 'socket-opened') this.sockets.reset(line.urc.groups.link ?? this.request?.link ?? '0');
  }

  /**
   * A command the profiles mark as opening data mode (their `dataMode` opens), or V.250's ATO / ATD,
   * answered CONNECT: the line carries socket data from then on.
   */
  private isTransparentConnect(text: string): boolean {
    const command = this.context?.text ?? this.openedOk ?? '';
    return this.profile.family === 'cellular' && /^CONNECT(?: \d+)?$/.test(text) && (opensDataMode(command) || /^AT(?:O\d?$|D)/i.test(command));
  }

  private afterFinal(e: TimelineEntry): void {
    const command = this.context?.text ?? this.openedOk ?? '';
    this.context = undefined;
    this.openedOk = e.outcome === 'ok' && opensDataMode(command) ? command : undefined;
    if (e.outcome === 'connect' && (opensDataMode(command) || /^ATD/i.test(command))) this.enterTransparent(sendRequestOf(command)?.link ?? '0');
    else if (e.outcome === 'connect' && /^ATO\d?$/i.test(command)) this.enterTransparent(this.transparentLink, false);
  }

  private lineEntry(line: ClassifiedLine): TimelineEntry {
    const kind: EntryKind = line.kind === 'command' ? 'command' : line.kind;
    const e = kind === 'echo'
      ? this.entry('rx', kind, redactCommandLine(line.text.trim()), { raw: line.text, classified: line })
      : kind === 'info' // an IMEI/IMSI/ICCID answer is shown with its middle masked, as traces keep it
        ? this.entry('rx', kind, maskIdentifierLine(displayLine(line.text.trim()), this.context?.text, this.known), { raw: line.text, classified: line })
        : this.entry('rx', kind, displayLine(line.text.trim()), { raw: line.text, classified: line });
    if (line.reboot) {
      e.reboot = true;
      e.meaning = 'the module (re)started';
    }
    if (line.final) {
      e.outcome = line.final.outcome;
      if (line.final.code !== undefined) e.code = line.final.code;
      if (line.final.table !== undefined) e.table = line.final.table;
      if (line.final.meaning !== undefined) e.meaning = line.final.meaning;
    }
    if (line.urc) {
      e.urc = { name: line.urc.name, event: line.urc.event, groups: line.urc.groups };
      const code = line.urc.groups.code;
      if (code !== undefined) e.code = code;
      if (line.urc.table !== undefined) e.table = line.urc.table;
      if (line.urc.meaning !== undefined) e.meaning = line.urc.meaning;
    }
    if (line.busy) {
      e.busy = line.busy;
      e.meaning = busyMeaning(line.busy);
    }
    if (line.kind === 'info') {
      const m = meaningOfAnswer(line.text, this.profile, this.context?.text);
      if (m) {
        e.meaning = m.meaning;
        if (m.code !== undefined) e.code = m.code;
        if (m.table !== undefined) e.table = m.table;
      }
    }
    return e;
  }

  private socketEntry(dir: 'tx' | 'rx', data: Buffer, socket: SocketData, direction: 'up' | 'down'): void {
    // Shown with a CONNECT's password masked (raw bytes stay in the details for the decoders).
    const e = this.entry(dir, 'data', printable(dir === 'tx' ? redactMqttConnect(data) : data, 80), { raw: data });
    e.socket = socket;
    const packets: MqttSummary[] = this.sockets.push(socket.link, direction, data);
    if (packets.length > 0) e.mqtt = this.known.size === 0 ? packets : packets.map((p) => this.maskedPacket(p));
  }

  /** A packet's client id, topic and payload with the identifiers seen so far masked. */
  private maskedPacket(p: MqttSummary): MqttSummary {
    const out: MqttSummary = { ...p, text: this.known.mask(p.text) };
    if (p.clientId !== undefined) out.clientId = this.known.mask(p.clientId);
    if (p.topic !== undefined) out.topic = this.known.mask(p.topic);
    if (p.payloadPreview !== undefined) out.payloadPreview = this.known.mask(p.payloadPreview);
    return out;
  }

  /** `from`: what the entry was made of, when its text is not that (bytes are turned into text only on demand). */
  private entry(dir: TimelineEntry['dir'], kind: EntryKind, text: string, from?: { raw: string | Buffer; classified?: ClassifiedLine }): TimelineEntry {
    const ev = this.current;
    // An IMEI/IMSI/ICCID the module answered with is masked wherever it comes again (a client id).
    const e: TimelineEntry = { index: this.nextIndex++, event: ev?.index ?? -1, dir, kind, text: this.known.size === 0 ? text : this.known.mask(text) };
    if (this.details) {
      const raw = from === undefined ? text : typeof from.raw === 'string' ? from.raw : from.raw.toString('latin1');
      this.details.set(e, from?.classified ? { raw, classified: from.classified } : { raw });
    }
    if (ev?.event.line !== undefined) e.line = ev.event.line;
    if (ev?.event.t !== undefined) e.t = ev.event.t;
    const read = ev?.event.fields?.read;
    if (read === 'code' || read === 'debug' || read === 'prose' || read === 'traffic') e.read = read;
    else if (this.options.perLine && dir !== 'note') e.read = 'traffic';
    const reader = ev?.event.fields?.reader;
    if (typeof reader === 'string') e.reader = reader;
    if (this.context && kind !== 'command' && kind !== 'note') e.command = this.known.size === 0 ? this.shownCommand : this.known.mask(this.shownCommand);
    this.out.push(e);
    return e;
  }
}

/** A line for a person: UTF-8 when the bytes are valid UTF-8 (pasted logs), else the latin1 view. */
function displayLine(text: string): string {
  if (!/[\x80-\xff]/.test(text)) return text;
  const utf8 = Buffer.from(text, 'latin1').toString('utf8');
  return utf8.includes('\ufffd') ? printable(text, 400) : utf8;
}
