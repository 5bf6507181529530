import { bracketTraceReader } from './bracket-trace.js';
import { espIdfReader } from './esp-idf.js';
import { esphomeReader } from './esphome.js';
import { hostPrefixReader } from './host-prefix.js';
import { mbedAtHandlerReader } from './mbed-athandler.js';
import { mbedTraceReader } from './mbed-trace.js';
import { sendAtReader } from './send-at.js';
import type { DebugReader, ReaderOut } from './types.js';
import { tinygsmReader } from './tinygsm.js';
import { zephyrReader } from './zephyr.js';

export type { DebugReader, ReaderOut };

/** The names of the debug-format readers, in the order they are tried. */
export const READER_NAMES = ['esp-idf', 'esphome', 'mbed-trace', 'zephyr', 'tinygsm', 'mbed-athandler', 'bracket-trace', 'send-at', 'host-prefix'] as const;

/**
 * Every debug-format reader, fresh state each call. A line is offered to each in turn; the first
 * that recognises it reads it (the host-prefix reader, the loosest, comes last).
 */
export class DebugReaders {
  private readonly readers: DebugReader[];

  /** `sendAt`: the file holds the prints of Waveshare's `send_at` helper (seen in its first part). */
  constructor(options: { sendAt?: boolean } = {}) {
    this.readers = [espIdfReader(), esphomeReader(), mbedTraceReader(), zephyrReader(), tinygsmReader(), mbedAtHandlerReader(), bracketTraceReader()];
    if (options.sendAt) this.readers.push(sendAtReader());
  }

  private readonly labelled = hostPrefixReader();
  private active: DebugReader | undefined;
  /** Lines each reader took, by name (what `decode` reports as the formats it met). */
  readonly seen = new Map<string, number>();

  /** What the line holds, and which reader took it; undefined when no reader knows it. */
  read(line: string): { reader: string; out: ReaderOut[] } | undefined {
    return this.tryEach(line, this.readers);
  }

  /** The loosest reader, tried only after the direction markers: a host's label before traffic. */
  readLabelled(line: string): { reader: string; out: ReaderOut[] } | undefined {
    return this.tryEach(line, [this.labelled]);
  }

  private tryEach(line: string, readers: readonly DebugReader[]): { reader: string; out: ReaderOut[] } | undefined {
    for (const r of readers) {
      const out = r.read(line);
      if (out === undefined) continue;
      const before = this.active && this.active !== r ? this.active.flush() : [];
      this.active = r;
      this.seen.set(r.name, (this.seen.get(r.name) ?? 0) + 1);
      return { reader: r.name, out: [...before, ...out] };
    }
    return undefined;
  }

  flush(): ReaderOut[] {
    const out = this.active?.flush() ?? [];
    this.active = undefined;
    return out;
  }
}
