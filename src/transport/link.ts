import { EventEmitter } from 'node:events';

/** Serial framing as the port should be opened. 8N1 is what both module families use by default. */
export interface SerialFraming {
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  rtscts: boolean;
}

export const DEFAULT_FRAMING: SerialFraming = { dataBits: 8, parity: 'none', stopBits: 1, rtscts: false };

/** Bits on the wire per byte for a framing: start bit + data + parity + stop. */
export function bitsPerByte(f: SerialFraming = DEFAULT_FRAMING): number {
  return 1 + f.dataBits + (f.parity === 'none' ? 0 : 1) + f.stopBits;
}

export interface LinkSignals {
  dtr?: boolean;
  rts?: boolean;
}

export interface LinkCapabilities {
  /** The baud rate can be changed on the open link (a real or emulated UART). */
  baud: boolean;
  /** DTR can be dropped (a real UART with the line wired; ptys refuse the ioctl). */
  dtr: boolean;
}

export interface LinkEvents {
  data: [chunk: Buffer];
  close: [err?: Error];
  error: [err: Error];
}

/**
 * One byte stream between host and module. Every backend (serial device, TCP as ser2net
 * exposes it, the in-process emulator pair) is a Link, so every layer above is testable alone.
 */
export interface Link {
  readonly description: string;
  readonly capabilities: LinkCapabilities;
  readonly isOpen: boolean;
  /** Current rate, or undefined where the backend has none (TCP). */
  readonly baud: number | undefined;
  write(data: Buffer): Promise<void>;
  setBaud(baud: number): Promise<void>;
  setSignals(signals: LinkSignals): Promise<void>;
  /** Drop whatever the OS buffered in either direction (u-blox rule: flush before a command). */
  flush(): Promise<void>;
  close(): Promise<void>;
  on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
  once<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
  off<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
}

/** Shared event plumbing for Link backends. */
export abstract class LinkBase extends EventEmitter implements Link {
  abstract readonly description: string;
  abstract readonly capabilities: LinkCapabilities;
  abstract readonly isOpen: boolean;
  abstract readonly baud: number | undefined;
  abstract write(data: Buffer): Promise<void>;
  abstract close(): Promise<void>;

  async setBaud(_baud: number): Promise<void> {
    throw new Error(`${this.description}: this link has no baud rate to change`);
  }

  async setSignals(_signals: LinkSignals): Promise<void> {
    throw new Error(`${this.description}: this link has no modem control lines`);
  }

  async flush(): Promise<void> {}

  override on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}
