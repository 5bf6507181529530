import type { Link, LinkCapabilities, LinkEvents, LinkSignals } from './link.js';
import { LinkBase } from './link.js';

/** Receives every byte crossing a link, in both directions, plus notes from the layers above. */
export interface Tap {
  tx(data: Buffer): void;
  rx(data: Buffer): void;
  note?(text: string, fields?: Record<string, unknown>): void;
}

/**
 * A decorator around a Link that shows each byte to a set of taps before passing it on
 * (warthog618/modem's trace idea: tracing never touches the layers it watches).
 */
export class TappedLink extends LinkBase {
  private readonly taps = new Set<Tap>();

  constructor(private readonly inner: Link) {
    super();
    inner.on('data', (chunk) => {
      for (const tap of this.taps) tap.rx(chunk);
      this.emit('data', chunk);
    });
    inner.on('close', (err) => {
      if (err) this.note(`link closed: ${err.message}`);
      this.emit('close', err);
    });
    // A Link reports a failure as the reason of its 'close'. Anything a backend still emits as
    // 'error' goes to the trace and to listeners, if any: an unheard 'error' would end the process.
    inner.on('error', (err) => {
      this.note(`link error: ${err.message}`);
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  addTap(tap: Tap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  /** Lets layers above record a state change in the same trace as the bytes. */
  note(text: string, fields?: Record<string, unknown>): void {
    for (const tap of this.taps) tap.note?.(text, fields);
  }

  get description(): string {
    return this.inner.description;
  }
  get capabilities(): LinkCapabilities {
    return this.inner.capabilities;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get baud(): number | undefined {
    return this.inner.baud;
  }

  write(data: Buffer): Promise<void> {
    for (const tap of this.taps) tap.tx(data);
    return this.inner.write(data);
  }
  override setBaud(baud: number): Promise<void> {
    for (const tap of this.taps) tap.note?.(`baud ${baud}`, { baud });
    return this.inner.setBaud(baud);
  }
  override setSignals(signals: LinkSignals): Promise<void> {
    for (const tap of this.taps) tap.note?.(`signals ${JSON.stringify(signals)}`, { signals });
    return this.inner.setSignals(signals);
  }
  override flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export type { LinkEvents };
