import type { Readable } from 'node:stream';

/** Longest line kept whole; longer runs are cut so memory stays bounded on any input. */
const MAX_LINE_BYTES = 1 << 20;

/**
 * Splits a byte stream on LF into Buffers (LF removed, a CR before it kept), never decoding:
 * the bytes of a line reach the importer unchanged. Holds at most one partial line.
 */
export async function* readByteLines(stream: Readable): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      yield carry ? Buffer.concat([carry, piece]) : piece;
      carry = undefined;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
      if (carry.length >= MAX_LINE_BYTES) {
        yield carry;
        carry = undefined;
      }
    }
  }
  if (carry && carry.length > 0) yield carry;
}

/** A line without its trailing CR. */
export function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}
