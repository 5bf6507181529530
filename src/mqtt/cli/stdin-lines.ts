import type { Readable } from 'node:stream';

/**
 * Lines of a byte stream as Buffers, split at \n only (a \r stays, as in mosquitto_pub -l); never
 * decoded as text. A last line without \n still counts (fgets in mosquitto_pub returns it too).
 */
export async function* lines(input: Readable): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    rest = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let nl = rest.indexOf(0x0a); nl !== -1; nl = rest.indexOf(0x0a, start)) {
      yield rest.subarray(start, nl);
      start = nl + 1;
    }
    rest = rest.subarray(start);
  }
  if (rest.length > 0) yield rest;
}

export async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
