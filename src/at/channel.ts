import { EventEmitter } from 'node:events';
import type { Link } from '../transport/link.js';
import type { CompiledResult, ModuleProfile } from '../profile/module-profile.js';
import type { ResultCodeT } from '../profile/schema.js';
import type { ClassifiedLine, CommandContext } from './classify.js';
import { classifyLine, responsePrefixFor, splitGluedEcho } from './classify.js';
import { AtError } from './errors.js';
import { CorruptionMeter, garbleReason, looksLikeDamagedUrc, type CorruptionFigures, type GarbleReason } from './corruption.js';
import type { Frame } from './framer.js';
import { AtFramer } from './framer.js';

export type BlockFrame = Extract<Frame, { kind: 'block' }>;

export interface AtCommandOptions {
  /** Defaults to the profile's timeout for this command. */
  timeoutMs?: number;
  /** Extra final result codes for this command (CONNECT for a transparent open). */
  finals?: readonly ResultCodeT[];
  /** Lines starting with this answer the command; derived from the command when undefined. */
  responsePrefix?: string | null;
  /** The module answers '>' and then takes `data`. */
  prompt?: boolean;
  data?: Buffer;
  /** Finals that end the data phase (SEND OK / SEND FAIL); default: the normal finals. */
  dataFinals?: readonly ResultCodeT[];
  /**
   * A URC that completes the command after its final result (it may also come first, unless
   * `followsFinal`: then it comes only after the final, and seen first it means the final was lost).
   */
  awaitUrc?: { pattern: RegExp; timeoutMs: number; followsFinal?: boolean; succeeded?: (groups: Record<string, string>) => boolean };
  /** Pause after this command's final instead of the channel's (0 when the answer already waited for its URC). */
  settleMs?: number;
  /** Switch to data (transparent) mode at the prompt or at a CONNECT final. */
  enterDataMode?: boolean;
  /** Resend on `busy p...` (the module ignored the command); default true. */
  retryBusy?: boolean;
  /**
   * After this command times out, send one `AT` and wait for quiet before the next command, so a
   * late final is not taken as the next command's answer (default true; probes that are themselves
   * `AT` turn it off, or a baud scan would pay for a sync at every wrong rate).
   */
  resyncAfterTimeout?: boolean;
  signal?: AbortSignal;
}

export interface AtResponse {
  command: string;
  ok: boolean;
  outcome: 'ok' | 'error' | 'connect' | 'no-carrier' | 'prompt';
  /** The final result line (or '>' when the command ended at the prompt). */
  final: string;
  /** Information lines, echo and URCs removed. */
  lines: string[];
  /** Named groups of the final result (CME code, CONNECT rate). */
  groups: Record<string, string>;
  /** Binary blocks read by this command (AT+CIPRXGET=2, AT+CIPRECVDATA). */
  blocks: BlockFrame[];
  /** The awaited URC, when one was asked for. */
  urc?: { line: string; groups: Record<string, string> };
  error?: AtError;
  durationMs: number;
}

export interface AtChannelOptions {
  /** Pause after a final result before the next command (default: the profile's settleMs). */
  settleMs?: number;
  /** Wait between resends after `busy p...`. */
  busyRetryMs?: number;
  /** Give up on a busy module after this long. */
  busyBudgetMs?: number;
  /** Consecutive command timeouts after which the module is reported dead (ModemManager uses 10). */
  deadAfterTimeouts?: number;
  /** Silence after a resync before the next command (each line heard restarts it); default 100 ms. */
  resyncQuietMs?: number;
}

interface Job {
  text: string;
  options: AtCommandOptions;
  resolve: (res: AtResponse) => void;
  reject: (err: AtError) => void;
  /** Drops the queued-abort listener once the job leaves the queue. */
  dequeued?: () => void;
  /** The channel's own resync `AT`: its timeout neither counts nor asks for another resync. */
  internal?: boolean;
}

type Phase = 'final' | 'prompt' | 'data' | 'urc';

interface InFlight {
  job: Job;
  context: CommandContext;
  phase: Phase;
  lines: string[];
  blocks: BlockFrame[];
  started: number;
  timer: NodeJS.Timeout | undefined;
  busyDeadline: number;
  busyTimer: NodeJS.Timeout | undefined;
  urc: { line: string; groups: Record<string, string> } | undefined;
  final: { line: ClassifiedLine } | undefined;
  promptSeen: boolean;
  onAbort: (() => void) | undefined;
  /** Damaged lines heard while this command was in flight: a timeout after them is line noise, not silence. */
  damaged: number;
  /** The echo came back changed: the module may have heard another command than the one sent. */
  echoDamaged: boolean;
}

export interface AtChannelEvents {
  /** Every classified line, for traces and debug output. */
  line: [line: ClassifiedLine];
  urc: [line: ClassifiedLine];
  /** Data pushed by the module (+IPD and friends). */
  block: [block: BlockFrame];
  /** Payload while in data (transparent) mode. */
  data: [chunk: Buffer];
  prompt: [];
  timeout: [command: string, consecutive: number];
  /** A command's final never came, but the URC the module sends only after it did (`by`): answered by it. */
  'lost-final': [command: string, by: string];
  dead: [consecutive: number];
  /** A resync (one `AT`, then quiet) is starting because `after` timed out. */
  resync: [after: string];
  /** A line that looks damaged on the wire; `sustained` once the recent lines show a pattern of it. */
  garbled: [line: string, reason: GarbleReason, sustained: boolean];
  close: [];
}

/**
 * How long the resync `AT` may take (busy p... keeps it going, within the busy budget), the
 * silence after it that swallows a late final (each line heard restarts it), and the most that
 * silence may be stretched.
 */
const RESYNC_TIMEOUT_MS = 500;
const RESYNC_QUIET_MS = 100;
const RESYNC_QUIET_CAP_MS = 2000;

/**
 * One command in flight over a Link: writes the command, strips the echo, collects the answer
 * until a final result code, routes URCs to listeners at any time (even mid-command), resends
 * on `busy p...`, and waits a settle time after each final so late URCs arrive first.
 * After a timeout it resyncs (one `AT`, then quiet) so a late final never answers the next command.
 * In data (transparent) mode the channel only passes bytes; the socket owns the line then.
 */
export class AtChannel extends EventEmitter {
  private profile: ModuleProfile;
  private readonly framer: AtFramer;
  private readonly queue: Job[] = [];
  private inFlight: InFlight | undefined;
  private settleUntil = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private consecutiveTimeouts = 0;
  /** The command that timed out, while a resync is owed before the next command. */
  private resyncAfter: string | undefined;
  /** After a resync: until when a line heard still postpones the next command. */
  private quietCap = 0;
  private closed = false;
  private readonly corruption = new CorruptionMeter();
  private readonly settleMs: number | undefined;
  private readonly busyRetryMs: number;
  private readonly busyBudgetMs: number;
  private readonly deadAfter: number;
  private readonly resyncQuietMs: number;
  private readonly onData = (chunk: Buffer) => this.framer.push(chunk);
  private readonly onClose = () => this.shutdown();

  constructor(
    readonly link: Link,
    profile: ModuleProfile,
    options: AtChannelOptions = {},
  ) {
    super();
    this.profile = profile;
    this.settleMs = options.settleMs;
    this.busyRetryMs = options.busyRetryMs ?? 500;
    this.busyBudgetMs = options.busyBudgetMs ?? 20_000;
    this.deadAfter = options.deadAfterTimeouts ?? 10;
    this.resyncQuietMs = options.resyncQuietMs ?? RESYNC_QUIET_MS;
    this.framer = new AtFramer(profile, (frame) => this.onFrame(frame));
    link.on('data', this.onData);
    link.on('close', this.onClose);
  }

  get currentProfile(): ModuleProfile {
    return this.profile;
  }

  /** Swaps the profile once the module is identified (quirks, a different family). */
  setProfile(profile: ModuleProfile): void {
    this.profile = profile;
    this.framer.setProfile(profile);
  }

  get inDataMode(): boolean {
    return this.framer.inDataMode;
  }

  get busyWithCommand(): boolean {
    return this.inFlight !== undefined || this.queue.length > 0;
  }

  get timeoutsInARow(): number {
    return this.consecutiveTimeouts;
  }

  /** Lines heard and lines that looked damaged (overall and recently): the line's health. */
  get lineHealth(): CorruptionFigures {
    return this.corruption.figures();
  }

  /** After a rate change: judge the new rate on its own lines. */
  resetLineWindow(): void {
    this.corruption.resetWindow();
  }

  /** Sends a command; resolves with the module's answer (ok or not), rejects on timeout or a lost link. */
  send(text: string, options: AtCommandOptions = {}): Promise<AtResponse> {
    if (this.closed) return Promise.reject(new AtError('link-closed', text, `${this.link.description} is closed`));
    return new Promise((resolve, reject) => {
      const job: Job = { text, options, resolve, reject };
      const { signal } = options;
      if (signal?.aborted) return reject(new AtError('aborted', text, `${text}: cancelled`));
      if (signal) {
        // Cancelled while still queued: leave the queue now (start() takes over once it runs).
        const onQueuedAbort = () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return;
          this.queue.splice(at, 1);
          reject(new AtError('aborted', text, `${text}: cancelled before it was sent`));
        };
        signal.addEventListener('abort', onQueuedAbort, { once: true });
        job.dequeued = () => signal.removeEventListener('abort', onQueuedAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Like send, but a module error becomes a rejection. */
  async sendOk(text: string, options: AtCommandOptions = {}): Promise<AtResponse> {
    const res = await this.send(text, options);
    if (res.error) throw res.error;
    return res;
  }

  /** Writes bytes as they are (data mode, '+++'); no framing, no echo handling. */
  writeRaw(data: Buffer): Promise<void> {
    return this.link.write(data);
  }

  enterDataMode(): void {
    this.framer.setDataMode(true);
  }

  leaveDataMode(): void {
    this.framer.setDataMode(false);
    this.pump();
  }

  /**
   * Resolves with the next classified line matching `test` (registered now, so a line
   * arriving in the same chunk as whatever triggers it is not missed).
   */
  waitForLine(test: (line: ClassifiedLine) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<ClassifiedLine | undefined> {
    return new Promise((resolve) => {
      const done = (value: ClassifiedLine | undefined) => {
        clearTimeout(timer);
        this.off('line', onLine);
        this.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onLine = (line: ClassifiedLine) => {
        if (test(line)) done(line);
      };
      const onClose = () => done(undefined);
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.on('line', onLine);
      this.on('close', onClose);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /** Detaches from the link; pending commands fail with link-closed. The link stays open. */
  detach(): void {
    this.link.off('data', this.onData);
    this.link.off('close', this.onClose);
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pumpTimer);
    const failure = (text: string) => new AtError('link-closed', text, `${this.link.description} closed while waiting for ${text}`);
    if (this.inFlight) this.finish(this.inFlight, undefined, failure(this.inFlight.job.text));
    for (const job of this.queue.splice(0)) {
      job.dequeued?.();
      job.reject(failure(job.text));
    }
    this.emit('close');
  }

  private pump(): void {
    if (this.closed || this.inFlight || this.framer.inDataMode) return;
    const job = this.queue[0];
    if (!job) return;
    const wait = this.settleUntil - performance.now();
    if (wait > 0) {
      if (!this.pumpTimer) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    if (this.resyncAfter !== undefined) {
      const after = this.resyncAfter;
      this.resyncAfter = undefined;
      this.emit('resync', after);
      const done = () => {
        this.quietCap = performance.now() + RESYNC_QUIET_CAP_MS;
      };
      this.start({ text: 'AT', options: { timeoutMs: RESYNC_TIMEOUT_MS, settleMs: this.resyncQuietMs }, resolve: done, reject: done, internal: true });
      return;
    }
    this.queue.shift();
    job.dequeued?.();
    this.start(job);
  }

  private start(job: Job): void {
    const { options } = job;
    const derived = responsePrefixFor(job.text);
    const responsePrefix = options.responsePrefix === null ? undefined : (options.responsePrefix ?? derived);
    const flight: InFlight = {
      job,
      context: { text: job.text, responsePrefix, finals: this.profile.compileResults(options.finals), echoPending: true },
      phase: options.prompt ? 'prompt' : 'final',
      lines: [],
      blocks: [],
      started: performance.now(),
      timer: undefined,
      busyDeadline: performance.now() + this.busyBudgetMs,
      busyTimer: undefined,
      urc: undefined,
      final: undefined,
      promptSeen: false,
      onAbort: undefined,
      damaged: 0,
      echoDamaged: false,
    };
    if (options.signal) {
      flight.onAbort = () => {
        // The module may still answer it: that answer must not be taken for the next command's.
        if (!job.internal && options.resyncAfterTimeout !== false) this.resyncAfter = job.text;
        this.finish(flight, undefined, new AtError('aborted', job.text, `${job.text}: cancelled`));
      };
      options.signal.addEventListener('abort', flight.onAbort, { once: true });
    }
    this.inFlight = flight;
    this.framer.setExpectPrompt(flight.phase === 'prompt');
    if (!job.internal) this.quietCap = 0;
    this.arm(flight, options.timeoutMs ?? this.profile.timeoutFor(job.text));
    this.writeCommand(flight);
  }

  private writeCommand(flight: InFlight): void {
    flight.context.echoPending = true;
    const bytes = Buffer.from(flight.job.text + this.profile.lineEnding, 'latin1');
    this.link.write(bytes).catch((err: Error) => {
      if (this.inFlight === flight) this.finish(flight, undefined, new AtError('link-closed', flight.job.text, `writing ${flight.job.text} failed: ${err.message}`));
    });
  }

  private arm(flight: InFlight, ms: number): void {
    clearTimeout(flight.timer);
    flight.timer = setTimeout(() => this.onTimeout(flight), ms);
  }

  private onTimeout(flight: InFlight): void {
    if (this.inFlight !== flight) return;
    const { text } = flight.job;
    if (flight.phase === 'urc') {
      this.finish(flight, undefined, new AtError('urc-timeout', text, `${text}: the module said OK but never reported the result`, { lines: flight.lines }));
      return;
    }
    if (flight.job.internal) {
      this.finish(flight, undefined, new AtError('timeout', text, `${text}: no answer to the resync`));
      return;
    }
    // A probe (baud scan, escape ladder) expects silence now and then: it owes no resync and is no sign of death.
    const probe = flight.job.options.resyncAfterTimeout === false;
    if (!probe) {
      this.resyncAfter = text;
      this.consecutiveTimeouts++;
    }
    const heard = flight.lines.length > 0 ? ` (heard: ${flight.lines.slice(-3).join(' | ')})` : '';
    // Damaged lines went by while waiting, or lately: the final was most likely one of them, beyond
    // recognition, or the command's own CR was damaged on the way and the module never ran it.
    const recent = this.corruption.recentDamage;
    const failure = flight.damaged > 0 || recent > 0
      ? new AtError('garbled', text, `${text}: no final result, and the serial line is corrupting data (${flight.damaged > 0 ? `${flight.damaged} damaged line(s) while waiting` : `${recent} damaged line(s) lately`})${heard}`, { lines: flight.lines })
      : new AtError('timeout', text, `${text}: no final result from the module${heard}`, { lines: flight.lines });
    this.finish(flight, undefined, failure);
    this.emit('timeout', text, this.consecutiveTimeouts);
    if (!probe && this.consecutiveTimeouts >= this.deadAfter) this.emit('dead', this.consecutiveTimeouts);
  }

  private onFrame(frame: Frame): void {
    if (!this.inFlight && performance.now() < this.quietCap) {
      this.settleUntil = Math.max(this.settleUntil, Math.min(performance.now() + this.resyncQuietMs, this.quietCap));
    }
    switch (frame.kind) {
      case 'data':
        this.emit('data', frame.data);
        return;
      case 'prompt':
        if (frame.damaged) {
          const sustained = this.corruption.count('prompt');
          if (this.inFlight) this.inFlight.damaged++;
          this.emit('garbled', frame.raw.toString('latin1'), 'prompt', sustained);
        }
        this.onPrompt();
        return;
      case 'block':
        if (frame.purpose === 'read' && this.inFlight) this.inFlight.blocks.push(frame);
        else this.emit('block', frame);
        return;
      case 'line':
        this.onLine(frame.text);
    }
  }

  private onLine(text: string): void {
    const flight = this.inFlight;
    if (flight?.context.echoPending) {
      const parts = splitGluedEcho(text, flight.context.text);
      if (parts) {
        this.onLine(parts[0]);
        this.onLine(parts[1]);
        return;
      }
    }
    const line = classifyLine(text, this.profile, flight?.context);
    const awaited = flight?.phase === 'urc' && !flight.urc ? flight.job.options.awaitUrc?.pattern : undefined;
    const reason = garbleReason(line, flight?.context, this.profile.isNoise(line.text.trim())) ??
      (awaited && (line.kind === 'info' || line.kind === 'noise') && looksLikeDamagedUrc(line.text, awaited) ? 'unmatched' : undefined);
    const sustained = this.corruption.count(reason);
    this.emit('line', line);
    if (reason) this.emit('garbled', line.text, reason, sustained);
    if (line.kind === 'urc') this.emit('urc', line);
    if (!flight) return;
    if (reason) flight.damaged++;
    if (reason === 'echo') {
      // The echo went by, damaged: it is not an answer line, and the answer comes after it.
      flight.context.echoPending = false;
      flight.echoDamaged = true;
      return;
    }
    if (reason && this.answerDamaged(flight, reason)) {
      // The answer this command waits for most likely just went by, damaged: waiting for it would
      // cost the whole timeout (120 s for a socket open's URC). Fail now; resync before the next.
      this.resyncAfter = flight.job.text;
      // The damaged line goes with the evidence: what it names (another link, say) may need undoing.
      this.finish(flight, undefined, new AtError('garbled', flight.job.text, `${flight.job.text}: the answer arrived damaged (${reason}); the serial line is corrupting data`, { lines: [...flight.lines, line.text.trim()] }));
      return;
    }
    if (flight.job.options.awaitUrc && !flight.urc && line.kind !== 'echo') {
      const m = flight.job.options.awaitUrc.pattern.exec(line.text.trim());
      if (m) {
        flight.urc = { line: line.text, groups: { ...m.groups } };
        // SIM800 transparent open: OK, then the awaited CONNECT, then the line carries data.
        const awaited = flight.job.options.awaitUrc;
        if (flight.phase === 'urc' && flight.job.options.enterDataMode && (awaited.succeeded?.(flight.urc.groups) ?? true)) this.framer.setDataMode(true);
        if (flight.phase === 'urc') this.finish(flight, flight.final?.line);
        else if (awaited.followsFinal && (flight.phase === 'data' || flight.phase === 'final')) {
          // The module sends this URC only after the final: the final was lost on the line (not
          // late: the line keeps the order). The URC answers; waiting on would cost the whole timeout.
          this.emit('lost-final', flight.job.text, line.text.trim());
          this.finish(flight, undefined);
        }
        return;
      }
    }
    switch (line.kind) {
      case 'echo':
        flight.context.echoPending = false;
        return;
      case 'busy':
        this.onBusy(flight, line);
        return;
      case 'info':
        flight.lines.push(line.text);
        return;
      case 'final':
        this.onFinal(flight, line);
        return;
      default:
        return;
    }
  }

  /** A damaged line while waiting: the final or the awaited URC it most likely was. Probes expect garbage (a baud scan). */
  private answerDamaged(flight: InFlight, reason: GarbleReason): boolean {
    // A lone byte where a line end was: the line it belonged to may well be whole (it comes next).
    if (flight.job.internal || flight.job.options.resyncAfterTimeout === false || reason === 'echo' || reason === 'stray') return false;
    // At a '>' prompt the module may be waiting for the data: failing now would let it take the
    // next commands as payload. The prompt's own timeout (and the data that follows) handle it.
    if (flight.phase === 'prompt') return false;
    // Waiting only for a URC (up to 120 s for a socket open): any damaged line may be it. Waiting
    // for a final: only a line one letter off a final word (other garbage may be anything).
    return flight.phase === 'urc' || reason === 'final';
  }

  private onBusy(flight: InFlight, line: ClassifiedLine): void {
    flight.lines.push(line.text);
    if (flight.job.options.retryBusy === false || flight.phase !== 'final' && flight.phase !== 'prompt') return;
    if (performance.now() > flight.busyDeadline) {
      this.finish(flight, undefined, new AtError('module-busy', flight.job.text, `${flight.job.text}: the module stayed busy ("${line.text.trim()}")`, { lines: flight.lines }));
      return;
    }
    clearTimeout(flight.busyTimer);
    flight.busyTimer = setTimeout(() => {
      if (this.inFlight !== flight) return;
      this.arm(flight, flight.job.options.timeoutMs ?? this.profile.timeoutFor(flight.job.text));
      this.writeCommand(flight);
    }, this.busyRetryMs);
  }

  private onPrompt(): void {
    this.emit('prompt');
    const flight = this.inFlight;
    if (!flight || flight.phase !== 'prompt') return;
    flight.promptSeen = true;
    const { data, enterDataMode } = flight.job.options;
    if (data === undefined) {
      if (enterDataMode) this.framer.setDataMode(true);
      this.finish(flight, { kind: 'final', text: '>', final: { outcome: 'ok', groups: {} } }, undefined, 'prompt');
      return;
    }
    flight.phase = 'data';
    this.framer.setExpectPrompt(false);
    flight.context.finals = this.profile.compileResults(flight.job.options.dataFinals ?? []);
    flight.context.echoPending = false;
    this.arm(flight, flight.job.options.timeoutMs ?? this.profile.timeoutFor(flight.job.text));
    this.link.write(data).catch((err: Error) => {
      if (this.inFlight === flight) this.finish(flight, undefined, new AtError('link-closed', flight.job.text, `writing data failed: ${err.message}`));
    });
  }

  private onFinal(flight: InFlight, line: ClassifiedLine): void {
    const outcome = line.final!.outcome;
    // ESP-AT answers OK before its '>' prompt: that OK does not end the command.
    if (flight.phase === 'prompt' && outcome === 'ok') return;
    if (outcome !== 'ok' && outcome !== 'connect') {
      this.finish(flight, line);
      return;
    }
    if (outcome === 'connect' && flight.job.options.enterDataMode) this.framer.setDataMode(true);
    const awaited = flight.job.options.awaitUrc;
    if (awaited && !flight.urc) {
      flight.phase = 'urc';
      flight.final = { line };
      this.arm(flight, awaited.timeoutMs);
      return;
    }
    this.finish(flight, line);
  }

  private finish(flight: InFlight, finalLine: ClassifiedLine | undefined, failure?: AtError, outcomeOverride?: 'prompt'): void {
    if (this.inFlight !== flight) return;
    const opts = flight.job.options;
    if (!failure && finalLine && flight.echoDamaged && !opts.prompt && !flight.job.internal && opts.resyncAfterTimeout !== false) {
      // Whatever the answer, it may be to another command: what the module echoed is not what was sent.
      failure = new AtError('garbled', flight.job.text, `${flight.job.text}: the echo came back damaged, so the answer (${finalLine.text.trim()}) may be to another command; the serial line is corrupting data`, { lines: flight.lines });
    }
    clearTimeout(flight.timer);
    clearTimeout(flight.busyTimer);
    if (flight.onAbort) flight.job.options.signal?.removeEventListener('abort', flight.onAbort);
    this.inFlight = undefined;
    this.framer.setExpectPrompt(false);
    this.settleUntil = performance.now() + (flight.job.options.settleMs ?? this.settleMs ?? this.profile.data.serial.settleMs);
    const { job } = flight;
    if (failure) {
      job.reject(failure);
    } else {
      // The resync's OK shows the module hears AT, not that its commands work: no reset.
      if (!job.internal) this.consecutiveTimeouts = 0;
      const final = finalLine?.final ?? { outcome: 'ok' as const, groups: {} };
      const outcome = outcomeOverride ?? final.outcome;
      const ok = outcome === 'ok' || outcome === 'connect' || outcome === 'prompt';
      const res: AtResponse = {
        command: job.text,
        ok,
        outcome,
        final: finalLine?.text.trim() ?? '',
        lines: flight.lines,
        groups: final.groups,
        blocks: flight.blocks,
        durationMs: performance.now() - flight.started,
      };
      if (flight.urc) res.urc = flight.urc;
      if (!ok) res.error = errorFromFinal(job.text, finalLine!, flight.phase === 'data', flight.lines);
      job.resolve(res);
    }
    this.pump();
  }
}

function errorFromFinal(command: string, line: ClassifiedLine, inData: boolean, lines: string[]): AtError {
  const final = line.final!;
  const text = line.text.trim();
  const meaning = final.meaning;
  const detail = meaning ? `${text} (${meaning})` : text;
  const evidence = lines.length > 0 ? `; before it: ${lines.slice(-2).join(' | ')}` : '';
  if (final.outcome === 'no-carrier') return new AtError('no-carrier', command, `${command}: NO CARRIER`, { lines });
  const atCode = inData ? 'send-failed' : final.table === 'cme' ? 'cme' : final.table === 'cms' ? 'cms' : 'error';
  return new AtError(atCode, command, `${command}: ${detail}${evidence}`, {
    lines,
    ...(final.code !== undefined ? { moduleCode: final.code } : {}),
    ...(meaning !== undefined ? { meaning } : {}),
  });
}

export type { CompiledResult };
