import type { Duplex } from 'node:stream';

export interface StreamTapOptions {
  onRead: (bytes: number) => void;
  onWrite: (bytes: number) => void;
  /**
   * mosquitto's `try_private`: MQTT 3.1.1 bridges announce themselves by setting the top bit of the
   * CONNECT protocol level (0x84). A mosquitto remote then never sends a bridge's own messages back
   * to it (the 3.1.1 stand-in for MQTT 5 "no local"), which is what keeps `both` routes loop-free.
   */
  markAsBridge: boolean;
}

/** Counts the bytes of one broker connection and, if asked, marks its CONNECT as a bridge's. */
export function tapStream(stream: Duplex, options: StreamTapOptions): Duplex {
  stream.on('data', (chunk: Buffer) => options.onRead(chunk.length));
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  let first = options.markAsBridge;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!Buffer.isBuffer(chunk)) return write(chunk, ...rest);
    let bytes: Buffer = chunk;
    if (first) {
      first = false;
      bytes = markConnectAsBridge(bytes);
    }
    options.onWrite(bytes.length);
    return write(bytes, ...rest);
  }) as Duplex['write'];
  return stream;
}

/** Sets bit 7 of the protocol level of a 3.1.1 CONNECT packet; any other packet is returned unchanged. */
export function markConnectAsBridge(packet: Buffer): Buffer {
  if (packet[0] !== 0x10) return packet;
  let offset = 1;
  while (offset < 5 && ((packet[offset] ?? 0) & 0x80) !== 0) offset++; // skip the remaining-length varint
  const name = offset + 1; // u16 length + "MQTT"
  if (packet.readUInt16BE(name) !== 4 || packet.toString('latin1', name + 2, name + 6) !== 'MQTT') return packet;
  const level = name + 6;
  if (packet[level] !== 4) return packet;
  const copy = Buffer.from(packet);
  copy[level] = 0x84;
  return copy;
}
