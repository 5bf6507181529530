import { EventEmitter } from 'node:events';
import type { ModuleProfile } from '../profile/index.js';
import { hostAllowed, NetBridge } from './net-bridge.js';
import type { EmulatorOptions, Fault } from './option-types.js';
import type { ModulePort } from './port.js';

/** A command's answer: lines (each framed CR LF), then the final result (or none: the handler answers later). */
export interface Reply {
  lines?: string[];
  final?: string;
  /** Raw bytes written after the lines, before the final. */
  raw?: Buffer;
  /** Runs once the answer has been written (a rate change after OK, a reboot after OK). */
  after?: () => void;
}

export interface FamilyHandler {
  /** Answers one command line (without its line ending). */
  command(line: string): Reply | Promise<Reply>;
  /** The power-on banner for the module's present state (SIM, firmware). */
  banner(): readonly string[];
  /** The banner is out: start what runs on its own (SIM init, network search). */
  booted(): void;
  /** Data for the open socket arrived from the network (command mode). */
  received(data: Buffer): void;
  /** The peer closed the socket. */
  peerClosed(): void;
  /** Everything reset (boot). */
  reset(): void;
  /** The data network (PDP context / Wi-Fi) dropped; the socket, if any, is already gone. */
  networkLost(hadSocket: boolean): void;
  /** Cellular: registration lost, searching again for `ms` (forever when undefined). */
  loseRegistration?(ms: number | undefined): void;
  /** A dialect that reports other identification than its profile's (ESP8266 AT 1.x on the esp-at profile). */
  identity?(command: string): string[] | undefined;
  /** What a command line gets while a send waits for its confirmation (ESP8266 AT 1.x `busy s...`); none: it waits its turn. */
  readonly busyWhileSending?: string;
}

/**
 * What the two families share: power-on banner, echo, line assembly, the '>' data phase,
 * transparent mode with the '+++' guard-time rule, one TCP socket bridged to real TCP, pacing
 * (through the port), latency, and injected faults.
 */
export class VirtualModule extends EventEmitter {
  echo: boolean;
  booted = false;
  bootedAt = 0;
  /** Bytes the module expects after a '>' prompt, and what to do with them. */
  private dataPhase: { remaining: number; parts: Buffer[]; done: (data: Buffer) => void | Promise<void> } | undefined;
  private transparent = false;
  /** '+++' detection state in transparent mode. */
  private plus = { count: 0, lastByteAt: 0, timer: undefined as NodeJS.Timeout | undefined };
  private line: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  private busyUntil = 0;
  /** A command is being worked on (ESP-AT answers new lines with `busy p...` meanwhile). */
  private running = false;
  private dropFinals = 0;
  /** Network events held until the running send is confirmed (see fromNetwork). */
  private held: (() => void)[] | undefined;
  /** A send's data is complete and its confirmation not yet asked for / not yet written. */
  private confirmPending = false;
  private sending = false;
  private delayFinalMs = 0;
  silent = false;
  socket: NetBridge | undefined;
  socketTarget: { host: string; port: number } | undefined;
  handler!: FamilyHandler;
  private bootTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly port: ModulePort,
    readonly profile: ModuleProfile,
    readonly options: EmulatorOptions,
    private readonly onFaultHook: (fault: Fault) => string | void = () => {},
  ) {
    super();
    this.echo = options.echo;
    port.on('data', (chunk) => this.onBytes(chunk));
    port.on('dtr', (asserted) => {
      // DTR drop (AT&D1 behaviour): leave data mode, keep the connection.
      if (!asserted && this.transparent) this.leaveTransparent(true);
    });
    port.on('close', () => this.close());
  }

  /** The identification answer for a command, with the configured firmware version in it. */
  identity(command: string): string[] | undefined {
    const own = this.handler?.identity?.(command);
    if (own) return own;
    const lines = this.profile.data.emulator?.identity[command];
    if (!lines || this.options.firmware === undefined) return lines;
    const current = this.defaultFirmware();
    return current ? lines.map((l) => l.split(current).join(this.options.firmware!)) : lines;
  }

  /** The firmware version the module reports: the option, or the one in its identification. */
  firmwareVersion(): string | undefined {
    return this.options.firmware ?? this.defaultFirmware();
  }

  private defaultFirmware(): string | undefined {
    const all = Object.values(this.profile.data.emulator?.identity ?? {}).flat();
    for (const pattern of this.profile.data.identify.firmware) {
      const re = new RegExp(pattern);
      for (const line of all) {
        const found = re.exec(line)?.groups?.firmware;
        if (found) return found.trim();
      }
    }
    return undefined;
  }

  /** What every module answers alike: identification, AT, echo on/off. */
  private commonCommand(up: string): Reply | undefined {
    const identity = this.identity(up);
    if (identity) return { lines: identity, final: 'OK' };
    if (up === 'AT') return { final: 'OK' };
    if (up === 'ATE0' || up === 'ATE1') {
      this.echo = up === 'ATE1';
      return { final: 'OK' };
    }
    return undefined;
  }

  setHandler(handler: FamilyHandler): void {
    this.handler = handler;
  }

  /** Powers on: banner after bootMs, then commands are accepted. */
  powerOn(withBanner = true): void {
    this.echo = this.options.echo;
    this.halt();
    const boot = () => {
      this.booted = true;
      this.bootedAt = Date.now();
      if (withBanner) void this.writeLines([...(this.profile.data.emulator?.bootLog ?? []), ...this.handler.banner()]);
      this.handler.booted();
      this.emit('booted');
    };
    if (this.options.bootMs > 0) this.bootTimer = setTimeout(boot, this.options.bootMs);
    else boot();
  }

  get inTransparentMode(): boolean {
    return this.transparent;
  }

  // ---- faults ---------------------------------------------------------------------------

  /**
   * Applies a fault now, at power-on or while the module runs (tests, `--control`, a schedule);
   * returns what it did, in a few words.
   */
  inject(fault: Fault): string {
    this.emit('fault', fault);
    const did = this.applyFault(fault);
    this.emit('injected', fault, did);
    return did;
  }

  private applyFault(fault: Fault): string {
    switch (fault.kind) {
      case 'reboot':
        // Power gone: output not yet sent is lost, and so is input until the banner.
        this.port.clearOutput();
        if (fault.offMs) {
          this.powerOff();
          clearTimeout(this.bootTimer);
          this.bootTimer = setTimeout(() => this.powerOn(), fault.offMs);
          return `powered off for ${fault.offMs} ms, then booting`;
        }
        this.powerOn();
        return 'rebooting';
      case 'peer-close':
        if (!this.socket) return 'no socket is open: nothing to close';
        this.closeSocket();
        this.onPeerClosed();
        return 'the peer closed the socket';
      case 'network-lost': {
        const hadSocket = this.socket !== undefined;
        this.closeSocket();
        if (this.transparent) this.leaveTransparent(false);
        this.handler.networkLost(hadSocket);
        return hadSocket ? 'the network dropped, and the socket with it' : 'the network dropped';
      }
      case 'busy':
        this.busyUntil = Date.now() + fault.ms;
        return `busy for ${fault.ms} ms`;
      case 'drop-final':
        this.dropFinals += fault.count ?? 1;
        return `dropping the next ${this.dropFinals} final result(s)`;
      case 'delay-final':
        this.delayFinalMs = fault.ms;
        return `delaying the next final result by ${fault.ms} ms`;
      case 'silent':
        this.silent = true;
        return 'silent until cleared or rebooted';
      case 'stuck-transparent':
        // As a crashed program leaves it: passthrough on, connection to nowhere.
        this.transparent = true;
        this.plus.lastByteAt = Date.now();
        return 'stuck in transparent mode';
      case 'clear':
        this.silent = false;
        this.busyUntil = 0;
        this.dropFinals = 0;
        this.delayFinalMs = 0;
        if (this.transparent && !this.socket) this.leaveTransparent(false);
        this.onFaultHook(fault);
        return 'lasting faults cleared';
      default:
        return this.onFaultHook(fault) ?? `${fault.kind} applied`;
    }
  }

  /** No power: nothing is heard or said, nothing runs, until powerOn(). */
  private powerOff(): void {
    this.halt();
  }

  /** Everything stops: no boot pending, no data phase, no socket, the dialect at its factory state. */
  private halt(): void {
    clearTimeout(this.bootTimer);
    this.booted = false;
    this.transparent = false;
    this.dataPhase = undefined;
    this.held = undefined;
    this.confirmPending = false;
    this.sending = false;
    this.line = [];
    this.closeSocket();
    this.handler.reset();
  }

  // ---- output ----------------------------------------------------------------------------

  write(data: Buffer | string): Promise<void> {
    if (this.silent || this.closed) return Promise.resolve();
    return this.port.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Each line framed as the modules do: CR LF before and after. */
  writeLines(lines: readonly string[]): Promise<void> {
    return this.write(lines.map((l) => `\r\n${l}\r\n`).join(''));
  }

  /** An unsolicited line (URC). */
  urc(line: string): void {
    void this.writeLines([line]);
  }

  // ---- input -----------------------------------------------------------------------------

  private onBytes(chunk: Buffer): void {
    if (this.silent || !this.booted || this.closed) return;
    if (this.transparent) {
      this.transparentBytes(chunk);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.dataPhase) {
        const phase = this.dataPhase;
        const take = Math.min(phase.remaining, chunk.length - at);
        phase.parts.push(chunk.subarray(at, at + take));
        phase.remaining -= take;
        at += take;
        if (phase.remaining === 0) {
          this.dataPhase = undefined;
          // The ordering gate: what the network says now waits for the send's confirmation.
          this.held ??= [];
          this.confirmPending = true;
          this.sending = true;
          const confirmation = phase.done(Buffer.concat(phase.parts));
          // A handler that confirms later returns a promise: the gate stays shut until then.
          if (confirmation instanceof Promise) void confirmation.finally(() => this.confirmed());
          else this.confirmed();
        }
        continue;
      }
      if (this.transparent) {
        this.transparentBytes(chunk.subarray(at));
        return;
      }
      const byte = chunk[at++]!;
      if (this.echo) void this.write(Buffer.from([byte]));
      if (byte === 0x0d) {
        const text = Buffer.from(this.line).toString('latin1').trim();
        this.line = [];
        if (text.length === 0) continue;
        // ESP-AT takes no new command while one runs: each new line gets `busy p...` (espat_07, _11).
        if (this.sending && this.handler.busyWhileSending) void this.writeLines([this.handler.busyWhileSending]);
        else if (this.running && this.hasBusyText) void this.writeLines(['busy p...']);
        else this.enqueue(text);
      } else if (byte === 0x0a) {
        continue;
      } else if (byte === 0x08 || byte === 0x7f) {
        this.line.pop();
      } else if (this.line.length < 1024) {
        this.line.push(byte);
      }
    }
  }

  private get hasBusyText(): boolean {
    return this.profile.data.busy.length > 0;
  }

  /** Commands run one after another, each after the configured latency. */
  private enqueue(text: string): void {
    this.running = true;
    this.queue = this.queue.then(async () => {
      try {
        await this.runCommand(text);
      } finally {
        this.running = false;
      }
    });
  }

  private async runCommand(text: string): Promise<void> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    if (this.silent || this.closed) return;
    if (Date.now() < this.busyUntil) {
      // ESP-AT says so; a SIM7600 has no such word and simply answers once it is free.
      if (this.hasBusyText) return void (await this.writeLines(['busy p...']));
      await sleep(this.busyUntil - Date.now());
    }
    if (!/^AT/i.test(text)) return void (await this.writeLines(['ERROR']));
    let reply: Reply;
    try {
      reply = this.commonCommand(text.toUpperCase()) ?? (await this.handler.command(text));
    } catch {
      reply = { final: 'ERROR' };
    }
    await this.answer(reply);
  }

  async answer(reply: Reply): Promise<void> {
    // The first answer after a send's data is its confirmation: it opens the ordering gate.
    const confirms = this.confirmPending;
    this.confirmPending = false;
    try {
      await this.writeAnswer(reply);
    } finally {
      if (confirms) {
        this.sending = false;
        this.releaseNetwork();
      }
    }
  }

  private async writeAnswer(reply: Reply): Promise<void> {
    // Information text is one block, lines joined by a single CR LF (sim7600_02 AT+SIMCOMATI,
    // espat_01 AT+GMR); the final result follows after a blank line.
    if (reply.lines?.length) await this.write(`\r\n${reply.lines.join('\r\n')}\r\n`);
    if (reply.raw) await this.write(reply.raw);
    if (reply.final !== undefined) {
      if (this.dropFinals > 0) {
        this.dropFinals--;
      } else {
        if (this.delayFinalMs > 0) {
          const ms = this.delayFinalMs;
          this.delayFinalMs = 0;
          await sleep(ms);
        }
        await this.writeLines([reply.final]);
      }
    }
    reply.after?.();
  }

  /** Shows '>' and hands the next `length` bytes to `done` (AT+CIPSEND). */
  expectData(length: number, done: (data: Buffer) => void | Promise<void>, prompt = '\r\n>'): Promise<void> {
    this.dataPhase = { remaining: length, parts: [], done };
    return this.write(prompt);
  }

  // ---- transparent mode --------------------------------------------------------------------

  enterTransparent(banner: string): Promise<void> {
    this.transparent = true;
    this.plus = { count: 0, lastByteAt: Date.now(), timer: undefined };
    return this.write(banner);
  }

  /** Left by '+++', DTR or the peer closing. */
  leaveTransparent(replyOk: boolean): void {
    this.transparent = false;
    clearTimeout(this.plus.timer);
    this.plus.count = 0;
    if (replyOk && this.profile.data.escape.reply) void this.writeLines([this.profile.data.escape.reply]);
  }

  /**
   * The '+++' rule: silence for guardBefore, the three characters each within maxGap of the
   * last, then silence for guardAfter. Anything else is data, '+' characters included.
   */
  private transparentBytes(chunk: Buffer): void {
    const { guardBeforeMs, guardAfterMs, maxGapMs, sequence } = this.profile.data.escape;
    const escapeChar = sequence.charCodeAt(0);
    const now = Date.now();
    const forward: number[] = [];
    for (const byte of chunk) {
      const gap = now - this.plus.lastByteAt;
      const fits = byte === escapeChar && this.plus.count < sequence.length &&
        (this.plus.count === 0 ? gap >= guardBeforeMs : gap <= maxGapMs);
      if (fits) {
        this.plus.count++;
      } else {
        for (let i = 0; i < this.plus.count; i++) forward.push(escapeChar);
        this.plus.count = 0;
        forward.push(byte);
      }
      this.plus.lastByteAt = now;
    }
    clearTimeout(this.plus.timer);
    if (this.plus.count === sequence.length) {
      this.plus.timer = setTimeout(() => {
        if (this.plus.count === sequence.length && this.transparent) {
          this.emit('escaped');
          this.leaveTransparent(true);
        }
      }, guardAfterMs);
    }
    if (forward.length > 0) this.socket?.send(Buffer.from(forward));
  }

  // ---- the socket --------------------------------------------------------------------------

  async openSocket(host: string, port: number): Promise<'ok' | 'refused' | 'not-allowed'> {
    if (!hostAllowed(host, this.options.allowHosts)) return 'not-allowed';
    this.closeSocket();
    const bridge = new NetBridge(this.options.rttMs, {
      data: (chunk) =>
        this.fromNetwork(() => {
          if (this.socket !== bridge) return;
          if (this.transparent) void this.write(chunk);
          else this.handler.received(chunk);
        }),
      closed: () =>
        this.fromNetwork(() => {
          if (this.socket !== bridge) return;
          this.socket = undefined;
          this.onPeerClosed();
        }),
    });
    try {
      await bridge.connect(host, port);
    } catch {
      return 'refused';
    }
    this.socket = bridge;
    this.socketTarget = { host, port };
    return 'ok';
  }

  /**
   * Network events (data, the peer's close) in order, each held while a send waits for its
   * confirmation: a real module hands the data to its TCP/IP stack and confirms it (ESP-AT
   * `SEND OK`, SIM7600 `+CIPSEND: l,n,n`) before any reply can come back, whatever the round trip.
   */
  private fromNetwork(event: () => void): void {
    if (this.held) this.held.push(event);
    else event();
  }

  /** The data phase's handler has confirmed (or will not): if no answer() did, open the gate. */
  private confirmed(): void {
    if (!this.confirmPending) return;
    this.confirmPending = false;
    this.sending = false;
    this.releaseNetwork();
  }

  private releaseNetwork(): void {
    const events = this.held ?? [];
    this.held = undefined;
    for (const event of events) event();
  }

  closeSocket(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  private onPeerClosed(): void {
    if (this.transparent) {
      this.transparent = false;
      clearTimeout(this.plus.timer);
      this.plus.count = 0;
      this.emit('transparent-closed');
      const lines = this.profile.data.socket.transparent?.closedLines ?? ['CLOSED'];
      void this.writeLines([lines[0]!]);
      return;
    }
    this.handler.peerClosed();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.bootTimer);
    clearTimeout(this.plus.timer);
    this.closeSocket();
    this.handler.reset(); // stops its timers (SIM, registration)
    this.emit('close');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
