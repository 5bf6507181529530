import type { Readable } from 'node:stream';
import type { TraceEvent } from '../events.js';

/**
 * A raw byte dump (`cat /dev/ttyUSB2 > dump`, a logic probe's byte file): no times, one direction
 * or both merged. A merged dump goes in as rx: the conversation model recognises the host's
 * commands in it the same way it does in a transcript.
 */
export async function* importRaw(stream: Readable, direction: 'rx' | 'tx' | 'merged' = 'merged'): AsyncGenerator<TraceEvent> {
  const dir = direction === 'tx' ? 'tx' : 'rx';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    yield { t: undefined, dir, data: chunk };
  }
}
