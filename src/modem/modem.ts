import { EventEmitter } from 'node:events';
import { AtChannel, type BlockFrame } from '../at/channel.js';
import type { ClassifiedLine } from '../at/classify.js';
import { AtError } from '../at/errors.js';
import { AtbridgeError, EndCode, ExitCode, codeOf, errorMessage, isLinkClosed, isSessionOver } from '../errors.js';
import type { ModuleProfile, Vars } from '../profile/index.js';
import { ModemSocket } from '../socket/modem-socket.js';
import type { TappedLink } from '../transport/tap.js';
import { attachCellular, REGISTERED, type CellularFacts } from './attach.js';
import { Backoff } from './backoff.js';
import { run, runScript, type StepContext } from './context.js';
import { escapeDataMode } from './escape.js';
import { autoCandidates, identifyModule } from './identify.js';
import { sleep } from './probe.js';
import { joinWifi, type WifiFacts } from './join.js';
import { runCommand } from './run-command.js';
import { StateMachine, type ModemState, type Transition } from './states.js';
import { syncModule } from './sync.js';
import { CommandModeBackend, TransparentBackend } from '../socket/backends.js';
import type { SocketBackend } from '../socket/modem-socket.js';
import type { LinkEvents, ModemPort } from '../socket/port.js';

export interface ModemOptions {
  /** A profile, or undefined to identify the module among all profiles. */
  profile: ModuleProfile | undefined;
  baud: number | 'auto';
  setBaud?: number;
  /** Step module and port down a rate on sustained line corruption (`--baud-fallback`). */
  baudFallback?: boolean;
  transparent: boolean;
  recvMode: 'push' | 'buffered';
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  registrationTimeoutMs?: number;
  registrationPollMs?: number;
  /** How long status() waits for a command in flight (a socket read or send) before it reports what it knows; default 3000. */
  statusWaitMs?: number;
  /** Bring-up attempts before connect() gives up (each after a capped, jittered backoff). */
  attempts?: number;
  backoff?: { baseMs: number; capMs: number };
  onProgress?: (message: string) => void;
  /** The lines of a wait a person could take for a hang (the rate search, a silent module's retry); also progress. */
  onWait?: (message: string) => void;
  signal?: AbortSignal;
}

/** status() waits this long for a busy channel by default. */
const STATUS_WAIT_MS = 3000;

/** What the driver has learnt of the module: identity, rate, quirks, network facts, recoveries. */
export interface ModemFacts {
  profile?: string;
  model?: string;
  firmware?: string;
  baud?: number;
  quirks?: string[];
  cellular?: CellularFacts;
  wifi?: WifiFacts;
  lastError?: string;
  recoveries: number;
  /** The line's health: lines heard, lines that looked damaged, the recent share of them. */
  line?: { lines: number; garbled: number; recentRate: number; baudFallbacks: number };
}

/** How often the "line is corrupting data" warning may repeat while it lasts. */
const CORRUPTION_WARN_EVERY_MS = 10 * 60_000;

/** Faults that bring-up cannot fix by trying again: a person has to act. */
const PERMANENT = new Set([
  'sim-missing', 'sim-pin-required', 'sim-pin-wrong', 'sim-puk-required', 'registration-denied',
  'wifi-wrong-password', 'wifi-ap-not-found', 'wifi-not-configured', 'unknown-module', 'bad-option',
]);

/**
 * The driver: an explicit state machine (detect-baud → sync → identify → init → attach/join →
 * ready → socket → close) driven by the profile's chat scripts. It watches URCs for faults
 * (reboot, network loss, peer close), fails the open socket cleanly, and brings the module back
 * on the next connect() with capped exponential backoff and jitter.
 */
export class Modem extends EventEmitter implements ModemPort {
  readonly machine = new StateMachine();
  readonly channel: AtChannel;
  readonly facts: ModemFacts = { recoveries: 0 };
  private profile: ModuleProfile | undefined;
  private socket: ModemSocket | undefined;
  private backend: (SocketBackend & LinkEvents) | undefined;
  private bringingUp: Promise<void> | undefined;
  private needsBringUp = true;
  /** The module said +CPIN: READY since it last booted (its banner does): no need to ask. */
  private simReadySeen = false;
  private closed = false;
  /** The rate --baud-fallback stepped down to, applied at the next bring-up. */
  private fallbackBaud: number | undefined;
  private baudFallbacks = 0;
  /** A bring-up step was refused: perhaps a connection left open by an earlier run (kill -9); close it first next time. */
  private closeStale = false;
  private lastCorruptionWarning = 0;
  private readonly options: ModemOptions;
  /** The receive mode this module's firmware runs (the one asked for, if it has it). */
  private recvMode: 'push' | 'buffered';

  constructor(
    readonly link: TappedLink,
    options: ModemOptions,
  ) {
    super();
    this.options = options;
    this.recvMode = options.recvMode;
    this.profile = options.profile;
    // Until identified, frame with the profile given or the first candidate (both end lines in CR LF).
    this.channel = new AtChannel(link, options.profile ?? autoCandidates().find((p) => p.id === 'esp-at') ?? autoCandidates()[0]!);
    this.machine.on('transition', (t: Transition) => {
      link.note(`state ${t.from} → ${t.to}: ${t.reason}`, { state: t.to });
      this.emit('state', t);
    });
    this.channel.on('line', (line: ClassifiedLine) => this.onLine(line));
    this.channel.on('block', (block: BlockFrame) => this.onBlock(block));
    this.channel.on('data', (chunk: Buffer) => this.backend?.onRawData(chunk));
    this.channel.on('dead', (n: number) => this.onDead(n));
    this.channel.on('garbled', (_text: string, reason: string, sustained: boolean) => this.onGarbled(reason, sustained));
    this.channel.on('resync', (after: string) => link.note(`resync: ${after} timed out; AT, then quiet, so a late answer is not taken for the next command`));
    this.channel.on('close', () => this.fault(new AtbridgeError(EndCode.linkClosed, `${link.description} closed`, { exitCode: ExitCode.portMissing })));
  }

  get state(): ModemState {
    return this.machine.state;
  }

  get currentProfile(): ModuleProfile | undefined {
    return this.profile;
  }

  /** True once the link closed or close() ran: this Modem can do nothing more; open a new session. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Brings the module up (or back up after a fault); shared by concurrent callers. */
  async ensureReady(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (!this.needsBringUp && this.machine.is('ready', 'socket-command', 'socket-transparent', 'socket-opening', 'socket-closing')) return;
    this.bringingUp ??= this.bringUpWithRetry().finally(() => (this.bringingUp = undefined));
    return this.bringingUp;
  }

  /** Opens a TCP connection through the module. One at a time (single-link mode on both families). */
  async connect(host: string, port: number): Promise<ModemSocket> {
    // The last connection is still being closed at the module (its close command in flight): wait for that.
    if (this.machine.is('socket-closing')) await this.leaving('socket-closing');
    await this.ensureReady();
    if (this.socket && !this.socket.destroyed) {
      throw new AtbridgeError('socket-in-use', `a connection to ${this.socket.remoteAddress}:${this.socket.remotePort} is still open; close it first`);
    }
    const profile = this.profile!;
    const socket = new ModemSocket(host, port);
    const vars = this.vars({ host, port });
    this.machine.go('socket-opening', `connect ${host}:${port}`);
    try {
      await this.openAtModule(profile, vars);
      if (this.options.transparent) {
        if (!profile.hasCommand('socketOpenTransparent')) await runCommand(this.channel, profile, 'transparentEnter', vars);
        this.backend = new TransparentBackend(this, socket, profile);
        this.machine.go('socket-transparent', `CONNECT to ${host}:${port}`);
      } else {
        this.backend = new CommandModeBackend(this, socket, profile, vars, this.recvMode);
        this.machine.go('socket-command', `connected to ${host}:${port}`);
      }
    } catch (err) {
      this.channel.leaveDataMode();
      if (this.machine.is('socket-opening')) this.machine.go('ready', 'socket open failed');
      throw socketOpenError(host, port, err);
    }
    this.socket = socket;
    // The reader above (the MQTT client) listens too; this one keeps a late failure from being unheard.
    socket.on('error', (err) => this.note(`socket: ${err.message}`));
    socket.once('close', () => this.onSocketClosed(socket));
    socket.attach(this.backend);
    return socket;
  }

  /** Resolves at the next transition out of `state` (a close ends in ready, a fault elsewhere). */
  private leaving(state: ModemState): Promise<void> {
    return new Promise((resolve) => {
      const on = (t: Transition) => {
        if (t.from !== state) return;
        this.machine.off('transition', on);
        resolve();
      };
      this.machine.on('transition', on);
    });
  }

  /**
   * Opens the connection at the module. A connection an earlier run left open (after kill -9,
   * say) makes the open fail: close it and try once more, rather than closing before every open.
   */
  private async openAtModule(profile: ModuleProfile, vars: Vars): Promise<void> {
    // A family that picks the receive mode per connection (Quectel's QIOPEN access mode) has its own open for it.
    const open =
      this.options.transparent && profile.hasCommand('socketOpenTransparent')
        ? 'socketOpenTransparent'
        : !this.options.transparent && this.recvMode === 'buffered' && profile.hasCommand('socketOpenBuffered')
          ? 'socketOpenBuffered'
          : 'socketOpen';
    try {
      await runCommand(this.channel, profile, open, vars);
    } catch (err) {
      if (err instanceof AtError && err.atCode === 'garbled') await this.closeOtherLinks(profile, open, err, vars);
      if (!(err instanceof AtError) || !['error', 'cme', 'urc-failed'].includes(err.atCode)) throw err;
      this.note(`socket: open refused (${err.message}); closing a stale connection and trying again`);
      await runCommand(this.channel, profile, 'socketClose', vars, { optional: true }).catch(() => undefined);
      await runCommand(this.channel, profile, open, vars);
    }
  }

  /**
   * An open that reached the module damaged may open another link than ours (`AT+CIPOPEN=0` with
   * its digit flipped opens link 2: `+CIPOPEN: 2,0`). Nothing would ever close it, and a module
   * with one socket then refuses every open of ours. When the answer (by the open's own `match`)
   * names another link, close that one.
   */
  private async closeOtherLinks(profile: ModuleProfile, open: string, err: AtError, vars: Vars): Promise<void> {
    const match = profile.command(open).match;
    if (!match || !profile.hasCommand('socketClose')) return;
    const pattern = new RegExp(match);
    const ours = String(vars.link ?? '');
    for (const line of new Set(err.lines)) {
      const other = pattern.exec(line.trim())?.groups?.link;
      if (other === undefined || other === ours) continue;
      this.note(`socket: a damaged open answered for link ${other} (${line.trim()}); closing that link`);
      await runCommand(this.channel, profile, 'socketClose', { ...vars, link: Number(other) }, { optional: true }).catch(() => undefined);
    }
  }

  /** Status for reports: identity, signal, registration or AP, state. */
  async status(): Promise<Record<string, unknown>> {
    // Identity, signal, operator and address are asked for here, not during bring-up: they are
    // not on the path to a connection.
    // A read or send in flight (right after an MQTT connect) is waited for, up to a bound, not skipped.
    if (this.profile && (await this.idleForStatus())) {
      if (this.facts.model === undefined) {
        const identity = await identifyModule(this.channel, [this.profile]).catch(() => undefined);
        if (identity?.model) this.facts.model = identity.model;
        if (identity?.firmware) this.facts.firmware = identity.firmware;
      }
      const found: Record<string, string | number> = {};
      for (const name of [...this.profile.script('signal'), ...this.profile.script('network')]) {
        const res = await runCommand(this.channel, this.profile, name, this.vars(), { optional: true, timeoutMs: this.readTimeoutMs() }).catch(() => undefined);
        for (const [key, value] of Object.entries(res?.groups ?? {})) {
          if (['rssi', 'operator', 'ip', 'ssid'].includes(key) && value !== undefined) found[key] = /^-?\d+$/.test(value) ? Number(value) : value;
        }
      }
      const where = this.facts.cellular ?? this.facts.wifi;
      if (where) Object.assign(where, found);
      if (this.facts.cellular) {
        const registration = await this.readRegistration();
        if (Object.keys(registration).length > 0) this.facts.cellular.registration = registration;
      }
    }
    return { state: this.state, ...this.facts, line: this.lineFacts() };
  }

  /** Waits (bounded) until the module is between commands in command mode; false when it never was. */
  private async idleForStatus(): Promise<boolean> {
    const deadline = performance.now() + (this.options.statusWaitMs ?? STATUS_WAIT_MS);
    for (;;) {
      if (!this.machine.is('ready', 'socket-command')) return false;
      if (!this.channel.busyWithCommand) return true;
      if (performance.now() > deadline) return false;
      await sleep(10);
    }
  }

  /** The profile's registration script, as bring-up reads it: the first registered technology ends it. */
  private async readRegistration(): Promise<Record<string, string>> {
    const states: Record<string, string> = {};
    for (const name of this.profile?.script('registration') ?? []) {
      const res = await runCommand(this.channel, this.profile!, name, this.vars(), { optional: true, timeoutMs: this.readTimeoutMs() }).catch(() => undefined);
      const stat = res?.groups.stat;
      if (res?.ok && stat !== undefined) states[name] = stat;
      if (REGISTERED.has(stat ?? '')) break;
    }
    return states;
  }

  /**
   * A status report only reads (AT+CSQ, AT+COPS?, AT+CREG?): a module answers a read at once, so the
   * profile's default timeout bounds it. A command's own long timeout (AT+COPS's 180 s) is for the
   * set and scan forms; a read whose line end was lost on a noisy line must not hold the channel,
   * and the connection's data behind it, that long.
   */
  private readTimeoutMs(): number {
    return this.profile?.data.timeouts.defaultMs ?? STATUS_WAIT_MS;
  }

  /** Lines heard and damaged, for status reports and metrics. */
  lineFacts(): NonNullable<ModemFacts['line']> {
    const { lines, garbled, recentRate } = this.channel.lineHealth;
    return { lines, garbled, recentRate, baudFallbacks: this.baudFallbacks };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.socket && !this.socket.destroyed) {
      await new Promise<void>((resolve) => {
        this.socket!.once('close', () => resolve());
        this.socket!.end();
        setTimeout(resolve, 15_000).unref();
      });
    }
    this.closed = true;
    if (!this.machine.is('closed')) this.machine.go('closed', 'session closed');
    this.channel.detach();
  }

  /** @internal Note for the trace. */
  note(text: string, fields?: Record<string, unknown>): void {
    this.link.note(text, fields);
  }

  /** @internal The socket's backends drive the state machine through these. */
  socketClosing(): void {
    if (this.machine.is('socket-command', 'socket-transparent')) this.machine.go('socket-closing', 'closing the connection');
  }

  vars(extra: Vars = {}): Vars {
    const o = this.options;
    return {
      link: this.profile?.data.socket.link ?? 0,
      ...(o.apn !== undefined ? { apn: o.apn } : {}),
      ...(o.pin !== undefined ? { pin: o.pin } : {}),
      ...(o.wifiSsid !== undefined ? { ssid: o.wifiSsid } : {}),
      ...(o.wifiPassword !== undefined ? { password: o.wifiPassword } : {}),
      ...extra,
    };
  }

  /**
   * The socket and receive modes asked for, against what this firmware offers (its profile's
   * quirks applied): transparent on a module without it is refused in one line; buffered receive
   * on a firmware that only pushes runs push, said once.
   */
  private checkModes(profile: ModuleProfile, firmware: string | undefined): void {
    const module = `${profile.id}${firmware ? ` (firmware ${firmware})` : ''}`;
    if (this.options.transparent && !profile.socketModes.includes('transparent')) {
      throw new AtbridgeError('bad-option', `${module} has no transparent mode; run without --transparent`, { exitCode: ExitCode.usage });
    }
    this.recvMode = profile.recvModeFor(this.options.recvMode);
    if (this.recvMode !== this.options.recvMode) this.progress(`${module} has no ${this.options.recvMode} receive; received data is ${this.recvMode === 'push' ? 'pushed by the module' : 'read on notice'} instead`);
  }

  private async bringUpWithRetry(): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    const backoff = new Backoff(this.options.backoff ?? { baseMs: 1000, capMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        // The link closed (during the last attempt or the wait): retrying here would retry on a dead link.
        if (this.closed) throw this.closedError();
        await this.bringUp();
        this.needsBringUp = false;
        this.closeStale = false;
        return;
      } catch (err) {
        this.facts.lastError = errorMessage(err);
        const code = codeOf(err);
        // Final for this session: the layer above opens the device again (a new session).
        const over = this.closed || isSessionOver(err);
        const permanent = over || PERMANENT.has(code) || this.options.signal?.aborted || code.startsWith('port-');
        if (over && isLinkClosed(err) && !this.closed) this.fault(new AtbridgeError(EndCode.linkClosed, errorMessage(err), { exitCode: ExitCode.portMissing }));
        if (!this.machine.is('closed', 'dead')) this.machine.go('recovering', `bring-up failed: ${errorMessage(err)}`);
        // Silent at every rate twice (a booting module answers by the second scan): more scans only make the user wait.
        const silent = code === 'no-response' && attempt >= Math.min(2, attempts);
        if (permanent || silent || attempt >= attempts) {
          if ((code === 'no-response' || code === EndCode.moduleDead) && !this.machine.is('closed')) this.machine.go('dead', 'no answer');
          throw over && !isSessionOver(err) ? this.closedError(err) : err;
        }
        // Refused in the middle of bring-up (ESP-AT: `link is builded` then ERROR to AT+CIPMUX while
        // a connection an earlier process left is open): close that connection and try again at once.
        if (err instanceof AtError && err.atCode === 'error' && !this.closeStale && !this.closed) {
          this.closeStale = true;
          this.progress(`${errorMessage(err)}; closing any connection left open and trying again`);
          continue;
        }
        const wait = backoff.next();
        // A silent module: the rates are named once, in the final error; here only that it goes again.
        if (code === 'no-response') this.waitLine(`no answer yet; trying once more in ${(wait / 1000).toFixed(1)} s (a module still booting answers by then)`);
        else this.progress(`${errorMessage(err)}; trying again in ${(wait / 1000).toFixed(1)} s`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** A bring-up step; refused once the link closed, so a dead session never leaves `closed`. */
  private advance(to: ModemState, reason: string): void {
    if (this.closed) throw this.closedError();
    this.machine.go(to, reason);
  }

  private closedError(cause?: unknown): AtbridgeError {
    const why = this.facts.lastError ? `: ${this.facts.lastError}` : '';
    return new AtbridgeError(EndCode.modemClosed, `the modem session is closed${why}`, { exitCode: ExitCode.failure, ...(cause !== undefined ? { cause } : {}) });
  }

  private async bringUp(): Promise<void> {
    const o = this.options;
    const candidates = this.profile ? [this.profile] : autoCandidates();
    const syncProfile = this.profile ?? this.channel.currentProfile;
    this.advance(o.baud === 'auto' ? 'detect-baud' : 'sync', this.facts.recoveries > 0 || this.machine.is('recovering') ? 'recovering' : 'start');
    // After a fallback the module may be at the lower rate, or back at its own after a reboot: search.
    const stepped = this.fallbackBaud !== undefined;
    const sync = await syncModule(this.channel, syncProfile, {
      baud: o.baud === 'auto' || stepped ? this.link.baud : o.baud,
      search: o.baud === 'auto' || stepped,
      note: (t) => this.note(t),
      progress: (t) => this.waitLine(t),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (this.machine.is('detect-baud')) this.advance('sync', `OK at ${sync.baud} baud`);
    if (sync.recoveredFromTransparent) this.progress('the module was left in transparent mode; recovered it');
    this.facts.baud = sync.baud;
    // Judge the line from here on: what was heard while searching rates or booting is not its noise.
    this.channel.resetLineWindow();

    this.advance('identify', 'module answers AT');
    // Init (echo off) first, so identification lines are clean; it runs once.
    await runScript(this.stepContext(syncProfile), 'init');
    const identity = this.profile && this.profile.data.quirks.length === 0
      ? { profile: this.profile, model: undefined, firmware: undefined, lines: [] } // nothing would change: skip the round trips
      : await identifyModule(this.channel, candidates, o.signal);
    this.profile = identity.profile;
    this.channel.setProfile(identity.profile);
    Object.assign(this.facts, {
      profile: identity.profile.id,
      ...(identity.model ? { model: identity.model } : {}),
      ...(identity.firmware ? { firmware: identity.firmware } : {}),
      quirks: identity.profile.appliedQuirks(),
    });
    this.progress(`module: ${identity.model ?? identity.profile.data.name}${identity.firmware ? `, firmware ${identity.firmware}` : ''}`);
    this.checkModes(identity.profile, identity.firmware);

    this.advance('init', `identified as ${identity.profile.id}`);
    const ctx = this.stepContext(identity.profile);
    const rate = this.fallbackBaud ?? o.setBaud;
    if (rate !== undefined && rate !== sync.baud) await this.switchBaud(ctx, rate);
    // A connection recovered from passthrough or left by a fault is closed now; a stale one from
    // another run is closed when the open is refused.
    if (sync.recoveredFromTransparent || this.facts.recoveries > 0 || this.closeStale) await run(ctx, 'socketClose', { optional: true }).catch(() => undefined);

    if (identity.profile.family === 'cellular') {
      this.advance('attach', 'init done');
      this.facts.cellular = await attachCellular(ctx, {
        registrationTimeoutMs: o.registrationTimeoutMs ?? 180_000,
        pollMs: o.registrationPollMs ?? 2000,
        transparent: o.transparent,
        recvMode: this.recvMode,
        simReady: this.simReadySeen,
      });
    } else {
      this.advance('join', 'init done');
      this.facts.wifi = await joinWifi(ctx, { transparent: o.transparent, recvMode: this.recvMode });
    }
    this.advance('ready', 'network up');
  }

  private async switchBaud(ctx: StepContext, baud: number): Promise<void> {
    const change = ctx.profile.data.baudChange;
    if (!change) throw new AtbridgeError('bad-option', `${ctx.profile.data.name} has no baud-change command`, { exitCode: ExitCode.usage });
    if (!change.rates.includes(baud)) {
      throw new AtbridgeError('bad-option', `--set-baud ${baud} is not a rate ${ctx.profile.data.name} supports (${change.rates.join(', ')})`, { exitCode: ExitCode.usage });
    }
    if (!this.link.capabilities.baud) throw new AtbridgeError('bad-option', `--set-baud needs a serial port; ${this.link.description} has no rate`, { exitCode: ExitCode.usage });
    this.progress(`switching the module and the port to ${baud} baud`);
    await this.channel.sendOk(ctx.profile.fill(change.command, { baud }), { timeoutMs: 2000 });
    await this.link.setBaud(baud);
    await this.link.flush();
    const { probeAtTimes } = await import('./probe.js');
    if (!(await probeAtTimes(this.channel, 3, 500, this.options.signal))) {
      throw new AtbridgeError('baud-switch-failed', `the module did not answer at ${baud} baud after ${change.command}`, {
        exitCode: ExitCode.noResponse,
        fix: 'the USB-serial adapter may not support this rate; try a lower one',
      });
    }
    this.facts.baud = baud;
    this.channel.resetLineWindow();
    this.note(`baud: now ${baud}`);
  }

  private stepContext(profile: ModuleProfile): StepContext {
    return {
      channel: this.channel,
      profile,
      vars: this.vars(),
      note: (t, f) => this.note(t, f),
      progress: (t) => this.progress(t),
      signal: this.options.signal,
    };
  }

  private progress(message: string): void {
    this.note(message);
    this.options.onProgress?.(message);
  }

  /** Progress that is shown even without --verbose: a wait that would otherwise look like a hang. */
  private waitLine(message: string): void {
    this.progress(message);
    this.options.onWait?.(message);
  }

  private onLine(line: ClassifiedLine): void {
    if (line.urc?.event === 'sim') this.simReadySeen = line.urc.groups.code?.trim() === 'READY';
    if (line.urc?.event === 'boot') this.simReadySeen = false;
    if (line.reboot && !this.machine.is('closed', 'detect-baud', 'sync', 'identify')) {
      this.fault(new AtbridgeError('module-rebooted', `the module restarted (${line.text.trim()}); its connections are gone`));
      return;
    }
    if (line.kind !== 'urc' || !line.urc) return;
    const { event, groups } = line.urc;
    switch (event) {
      case 'network-lost':
        this.fault(new AtbridgeError('network-closed', `the module lost the data network (${line.text.trim()})`, { exitCode: ExitCode.networkFailed }));
        return;
      case 'wifi-disconnected':
        if (this.machine.is('ready', 'socket-command', 'socket-transparent', 'socket-opening', 'socket-closing')) {
          this.fault(new AtbridgeError('wifi-disconnected', 'the module dropped off Wi-Fi (WIFI DISCONNECT)', { exitCode: ExitCode.networkFailed }));
        }
        return;
      case 'registration':
        if (groups.code !== undefined && !['1', '5'].includes(groups.code) && this.machine.is('ready', 'socket-command', 'socket-transparent')) {
          this.note(`registration lost: ${line.text.trim()} (${this.profile?.explain('creg', groups.code) ?? '?'})`);
          this.needsBringUp = true;
        }
        return;
      case 'socket-closed':
        if (this.backend && (groups.link === undefined || Number(groups.link) === this.profile?.data.socket.link)) {
          this.backend.onRemoteClosed(line.text.trim());
        }
        return;
      case 'data-available':
        this.backend?.onDataAvailable(groups.len !== undefined ? Number(groups.len) : undefined);
        return;
      default:
        return;
    }
  }

  private onBlock(block: BlockFrame): void {
    if (block.purpose === 'push') this.backend?.onPushed(block.data);
  }

  /**
   * A damaged line from the module. Sustained damage is told once in a while (MQTT carried through
   * the module has no checksum: a flipped bit in a PUBLISH is delivered as it is), and with
   * --baud-fallback the rate steps down: the session is failed, and the next bring-up switches.
   */
  private onGarbled(reason: string, sustained: boolean): void {
    this.note(`line: a damaged line (${reason})`);
    // Garbage while the rate is searched says nothing about the line in use. From the first clean
    // OK on, it does, in every state: a line too noisy for bring-up to finish must be told most.
    if (!sustained || this.machine.is('detect-baud', 'sync', 'closed')) return;
    const { garbled, lines, recentRate } = this.channel.lineHealth;
    const now = Date.now();
    if (now - this.lastCorruptionWarning >= CORRUPTION_WARN_EVERY_MS) {
      this.lastCorruptionWarning = now;
      this.progress(
        `the serial line is corrupting data: ${(recentRate * 100).toFixed(1)}% of recent lines damaged (${garbled} of ${lines} since start). ` +
          'MQTT has no checksum, so damaged messages can be delivered as valid: use TLS to the remote (mqtts://), where damage breaks the record and the message is resent; ' +
          'check the cable, the ground and the rate' + (this.options.baudFallback ? '' : ', or let --baud-fallback step the rate down'),
      );
    }
    if (this.options.baudFallback) this.stepBaudDown();
  }

  private stepBaudDown(): void {
    const change = this.profile?.data.baudChange;
    const current = this.fallbackBaud ?? this.facts.baud ?? this.link.baud;
    if (!change || !this.link.capabilities.baud || current === undefined || this.machine.is('closed', 'detect-baud', 'sync', 'identify', 'init')) return;
    const lower = [...change.rates].filter((r) => r < current).sort((a, b) => b - a)[0];
    this.channel.resetLineWindow();
    if (lower === undefined) {
      this.note(`baud-fallback: already at the lowest rate (${current})`);
      return;
    }
    this.fallbackBaud = lower;
    this.baudFallbacks++;
    this.progress(`baud-fallback: stepping the line down from ${current} to ${lower} baud`);
    this.fault(new AtbridgeError('line-corruption', `sustained corruption at ${current} baud; switching to ${lower}`));
  }

  private onDead(timeouts: number): void {
    this.fault(new AtbridgeError(EndCode.moduleDead, `the module stopped answering (${timeouts} commands in a row timed out)`, {
      exitCode: ExitCode.moduleDead,
      fix: 'power-cycle the module; check its supply can deliver the current peaks (2 A for cellular)',
    }));
  }

  /** A fault under the session: fail the socket so the layer above reconnects; bring-up runs again on connect(). */
  private fault(err: AtbridgeError): void {
    if (this.closed) return;
    this.facts.lastError = err.message;
    this.note(`fault: ${err.code}: ${err.message}`);
    this.emit('fault', err);
    const wasUp = !this.needsBringUp;
    this.needsBringUp = true;
    if (wasUp) this.facts.recoveries++;
    const socket = this.socket;
    this.backend?.abandon();
    this.backend = undefined;
    this.socket = undefined;
    if (isLinkClosed(err)) {
      if (!this.machine.is('closed')) this.machine.go('closed', err.message);
      this.closed = true;
    } else if (!this.machine.is('recovering', 'dead', 'closed', 'detect-baud', 'sync', 'identify', 'init', 'attach', 'join')) {
      this.machine.go(err.code === EndCode.moduleDead ? 'dead' : 'recovering', err.message);
    }
    this.channel.leaveDataMode();
    socket?.fail(err);
  }

  private onSocketClosed(socket: ModemSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.backend = undefined;
    if (this.machine.is('socket-command', 'socket-transparent', 'socket-closing')) this.machine.go('ready', 'connection closed');
  }

  /** @internal Leaves transparent mode for the transparent backend. */
  escape(): Promise<void> {
    return escapeDataMode(this.channel, this.profile!, { note: (t) => this.note(t) });
  }

  /** @internal Transparent mode: bytes straight onto the line. */
  writeRaw(data: Buffer): Promise<void> {
    return this.channel.writeRaw(data);
  }

  /** @internal The module left data mode by itself. */
  leaveDataMode(): void {
    this.channel.leaveDataMode();
  }

  /** @internal Runs a profile command for a backend. */
  runCommand(name: string, vars: Vars, data?: Buffer): ReturnType<typeof runCommand> {
    return runCommand(this.channel, this.profile!, name, vars, data ? { data } : {});
  }
}

function socketOpenError(host: string, port: number, err: unknown): AtbridgeError {
  if (err instanceof AtbridgeError && !(err instanceof AtError)) return err;
  const detail = err instanceof AtError ? `${err.meaning ?? err.message}` : errorMessage(err);
  return new AtbridgeError('socket-open-failed', `could not open TCP ${host}:${port} through the module: ${detail}`, {
    exitCode: ExitCode.socketFailed,
    fix: 'check the host and port are reachable from the module\'s network (the emulator allows loopback only unless told otherwise)',
  });
}
