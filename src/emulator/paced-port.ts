import { EventEmitter } from 'node:events';
import { flipBits, Pacer } from '../transport/pacer.js';
import { mulberry32 } from '../transport/pair-link.js';
import type { Tap } from '../transport/tap.js';
import type { ModulePort } from './port.js';

/**
 * A ModulePort over any byte sink (a pty, a TCP connection): both directions paced at the
 * module's rate, with optional bit-flip corruption. A pty or a TCP connection carries no rate
 * of its own, so a rate change re-paces but cannot garble here (the in-process wire does that).
 */
export class PacedPort extends EventEmitter implements ModulePort {
  private readonly out: Pacer;
  private readonly in: Pacer;
  private corruptionRate = 0;
  /** Set by the front that carries the line (pty, TCP), which alone can pull it out. */
  unplug?: (ms: number) => string;
  /** One noise generator per direction: which bytes flip does not depend on how the two interleave. */
  private readonly outNoise: () => number;
  private readonly inNoise: () => number;

  constructor(sink: (data: Buffer) => void, baud: number, pacing: boolean, private readonly tap?: Tap, seed = 0x2545f491) {
    super();
    this.outNoise = mulberry32(seed);
    this.inNoise = mulberry32((seed ^ 0x9e3779b9) >>> 0);
    this.out = new Pacer({ baud, enabled: pacing, deliver: (chunk) => sink(flipBits(chunk, this.corruptionRate, this.outNoise)) });
    this.in = new Pacer({ baud, enabled: pacing, deliver: (chunk) => this.emit('data', flipBits(chunk, this.corruptionRate, this.inNoise)) });
  }

  /** Bytes from the host. */
  input(data: Buffer): void {
    this.tap?.tx(data);
    void this.in.push(data);
  }

  write(data: Buffer): Promise<void> {
    this.tap?.rx(data);
    return this.out.push(data);
  }

  setBaud(baud: number): void {
    this.tap?.note?.(`module baud ${baud}`, { baud });
    this.out.setBaud(baud);
    this.in.setBaud(baud);
  }

  setCorruption(rate: number): void {
    this.corruptionRate = rate;
  }

  clearOutput(): void {
    this.out.clear();
  }

  close(): void {
    this.out.close();
    this.in.close();
    this.emit('close');
  }

}
