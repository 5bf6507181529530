import { AtbridgeError } from '../errors.js';

/**
 * Cuts the received byte stream into whole MQTT packets and refuses an oversized one from its
 * fixed header alone, before a byte of its body is buffered or parsed (a broker, or a corrupted
 * link, announcing 200 MB must not make a gateway allocate 200 MB).
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPacketSize: number) {}

  /** Appends bytes; returns every packet now complete (fixed header included). Throws on a too-large one. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const packets: Buffer[] = [];
    for (;;) {
      const size = packetSize(this.buffered);
      if (size === undefined) break;
      if (size > this.maxPacketSize) {
        throw new AtbridgeError(
          'mqtt-packet-too-large',
          `received an MQTT packet of ${size} bytes, more than the ${this.maxPacketSize}-byte receive limit`,
          { fix: 'raise maxPacketSize, or publish smaller messages', detail: { size, limit: this.maxPacketSize } },
        );
      }
      if (this.buffered.length < size) break;
      packets.push(this.buffered.subarray(0, size));
      this.buffered = this.buffered.subarray(size);
    }
    return packets;
  }

  /** True while part of a packet is buffered (a big one still arriving). */
  get partial(): boolean {
    return this.buffered.length > 0;
  }

  reset(): void {
    this.buffered = Buffer.alloc(0);
  }
}

/** Total size of the packet at the start of `buf` from its fixed header, or undefined if the header is incomplete. */
export function packetSize(buf: Buffer): number | undefined {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const byte = buf[i];
    if (byte === undefined) return undefined;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + remaining;
    multiplier *= 128;
  }
  throw new AtbridgeError('mqtt-malformed', 'received a malformed MQTT remaining length (more than 4 bytes)');
}
