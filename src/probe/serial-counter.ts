import type { Tap } from '../transport/tap.js';

/** Counts the bytes crossing the serial line each way (a Tap on the module's link). */
export class SerialCounter implements Tap {
  txBytes = 0;
  rxBytes = 0;
  constructor(public baud: number | undefined = undefined) {}
  tx(data: Buffer): void {
    this.txBytes += data.length;
  }
  rx(data: Buffer): void {
    this.rxBytes += data.length;
  }
  note(_text: string, fields?: Record<string, unknown>): void {
    if (typeof fields?.baud === 'number') this.baud = fields.baud;
  }
  snapshot(): { tx: number; rx: number } {
    return { tx: this.txBytes, rx: this.rxBytes };
  }
}

/** Share of the line's capacity used (8N1: 10 bits a byte), per direction. */
export function lineUse(bytes: number, baud: number | undefined, seconds: number): number | undefined {
  if (!baud || seconds <= 0) return undefined;
  return (bytes * 10) / baud / seconds;
}
