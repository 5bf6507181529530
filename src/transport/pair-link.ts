import { EventEmitter } from 'node:events';
import type { LinkCapabilities, LinkSignals } from './link.js';
import { LinkBase } from './link.js';
import { flipBits, garble, Pacer } from './pacer.js';

export interface WireOptions {
  /** Rate both ends start at. */
  baud: number;
  /** Pace bytes at the line rate (off for fast unit tests). */
  pacing: boolean;
  bitsPerByte?: number;
  /** Seed of the line noise (corruptionRate); each direction draws from its own generator. */
  seed?: number;
}

/**
 * The module's end of an in-process wire: what the emulator reads and writes.
 * Rates are per end, as on a real UART pair: when they differ, each side reads garbage.
 */
export class ModuleEnd extends EventEmitter {
  baud: number;
  private dtr = true;
  constructor(private readonly wire: Wire, baud: number) {
    super();
    this.baud = baud;
  }
  /** Bytes from the module towards the host. */
  write(data: Buffer): Promise<void> {
    return this.wire.toHost(data);
  }
  setBaud(baud: number): void {
    this.baud = baud;
  }
  /** Drop bytes still in flight towards the host (a reboot empties the UART FIFO). */
  clearOutput(): void {
    this.wire.clearToHost();
  }
  get dtrAsserted(): boolean {
    return this.dtr;
  }
  /** @internal */
  signal(signals: LinkSignals): void {
    if (signals.dtr !== undefined && signals.dtr !== this.dtr) {
      this.dtr = signals.dtr;
      this.emit('dtr', signals.dtr);
    }
  }
  override on(event: 'data', listener: (chunk: Buffer) => void): this;
  override on(event: 'dtr', listener: (asserted: boolean) => void): this;
  override on(event: 'close', listener: () => void): this;
  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
}

/** The host's end of the in-process wire: a Link like any serial port. */
export class HostEnd extends LinkBase {
  readonly description: string;
  readonly capabilities: LinkCapabilities = { baud: true, dtr: true };
  private open = true;
  baud: number;
  constructor(private readonly wire: Wire, baud: number, description: string) {
    super();
    this.baud = baud;
    this.description = description;
  }
  get isOpen(): boolean {
    return this.open;
  }
  write(data: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new Error(`${this.description} is closed`));
    return this.wire.toModule(data);
  }
  override async setBaud(baud: number): Promise<void> {
    this.baud = baud;
  }
  override async setSignals(signals: LinkSignals): Promise<void> {
    this.wire.module.signal(signals);
  }
  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    this.wire.close();
    this.emit('close');
  }
}

/** Two ends joined by paced lines, one per direction. */
export class Wire {
  readonly host: HostEnd;
  readonly module: ModuleEnd;
  private readonly hostward: Pacer;
  private readonly moduleward: Pacer;
  private garbleSeed = 1;
  /** One noise generator per direction: which bytes flip does not depend on how the two interleave. */
  private readonly toHostNoise: () => number;
  private readonly toModuleNoise: () => number;
  /** Probability per byte that the line flips it (fault injection). */
  corruptionRate = 0;

  constructor(options: WireOptions & { description?: string }) {
    this.host = new HostEnd(this, options.baud, options.description ?? 'emulator');
    this.module = new ModuleEnd(this, options.baud);
    const bitsPerByte = options.bitsPerByte ?? 10;
    const seed = options.seed ?? 1;
    this.toHostNoise = mulberry32(seed);
    this.toModuleNoise = mulberry32((seed ^ 0x9e3779b9) >>> 0);
    this.hostward = new Pacer({
      baud: options.baud,
      bitsPerByte,
      enabled: options.pacing,
      deliver: (chunk) => this.host.emit('data', this.distort(chunk, this.module.baud, this.host.baud, this.toHostNoise)),
    });
    this.moduleward = new Pacer({
      baud: options.baud,
      bitsPerByte,
      enabled: options.pacing,
      deliver: (chunk) => this.module.emit('data', this.distort(chunk, this.host.baud, this.module.baud, this.toModuleNoise)),
    });
  }

  /** Bytes that crossed the line each way (wire-efficiency figures). */
  get bytesToHost(): number {
    return this.hostward.bytes;
  }
  get bytesToModule(): number {
    return this.moduleward.bytes;
  }

  toHost(data: Buffer): Promise<void> {
    this.hostward.setBaud(this.module.baud);
    return this.hostward.push(data);
  }
  toModule(data: Buffer): Promise<void> {
    this.moduleward.setBaud(this.host.baud);
    return this.moduleward.push(data);
  }
  clearToHost(): void {
    this.hostward.clear();
  }
  setPacing(enabled: boolean): void {
    this.hostward.setEnabled(enabled);
    this.moduleward.setEnabled(enabled);
  }
  close(): void {
    this.hostward.close();
    this.moduleward.close();
    this.module.emit('close');
  }

  private distort(chunk: Buffer, sentBaud: number, readBaud: number, noise: () => number): Buffer {
    if (sentBaud !== readBaud) return garble(chunk, sentBaud, readBaud, this.garbleSeed++);
    return flipBits(chunk, this.corruptionRate, noise);
  }
}

/** A small deterministic PRNG (mulberry32) so corruption runs repeat. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
