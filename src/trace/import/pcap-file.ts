import { createReadStream } from 'node:fs';

/** One captured packet of a pcap or pcapng file. */
export interface CapturedPacket {
  linkType: number;
  /** Microseconds since the epoch. */
  tsUs: bigint;
  data: Buffer;
}

/** pcap (either byte order, µs or ns) or pcapng: the first four bytes say. */
export function isPcapFile(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32LE(0);
  return magic === 0x0a0d0d0a || magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1 || magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
}

export class PcapFormatError extends Error {}

/**
 * Streams the packets of a pcap or pcapng file (the formats tcpdump, dumpcap and Wireshark write)
 * without holding more than one block in memory.
 */
export async function* readPcapPackets(path: string, onRead?: (bytes: number) => void): AsyncGenerator<CapturedPacket> {
  let buf: Buffer = Buffer.alloc(0);
  let kind: 'pcap' | 'pcapng' | undefined;
  let little = true;
  let nanos = false;
  let pcapLinkType = 0;
  const interfaces: { linkType: number; tsDivisor: bigint; tsMultiplier: bigint }[] = [];
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    onRead?.(chunk.length);
    buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (kind === undefined) {
        if (buf.length < 24) break;
        const magic = buf.readUInt32LE(0);
        if (magic === 0x0a0d0d0a) kind = 'pcapng';
        else if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
          kind = 'pcap';
          little = true;
          nanos = magic === 0xa1b23c4d;
        } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
          kind = 'pcap';
          little = false;
          nanos = magic === 0x4d3cb2a1;
        } else throw new PcapFormatError('not a pcap or pcapng file');
        if (kind === 'pcap') {
          pcapLinkType = u32(buf, 20) & 0xffff;
          at = 24;
        }
      }
      if (kind === 'pcap') {
        if (buf.length - at < 16) break;
        const incl = u32(buf, at + 8);
        if (incl > 1 << 26) throw new PcapFormatError(`a packet of ${incl} bytes: the file is damaged`);
        if (buf.length - at < 16 + incl) break;
        const sec = BigInt(u32(buf, at));
        const frac = BigInt(u32(buf, at + 4));
        yield { linkType: pcapLinkType, tsUs: sec * 1_000_000n + (nanos ? frac / 1000n : frac), data: buf.subarray(at + 16, at + 16 + incl) };
        at += 16 + incl;
        continue;
      }
      // pcapng: type, total length, body, total length.
      if (buf.length - at < 12) break;
      const type = buf.readUInt32LE(at);
      if (type === 0x0a0d0d0a) {
        // A section header fixes the byte order for the section that follows.
        const bom = buf.readUInt32LE(at + 8);
        little = bom === 0x1a2b3c4d;
        if (!little && bom !== 0x4d3c2b1a) throw new PcapFormatError('pcapng section header with an unknown byte-order mark');
        interfaces.length = 0;
      }
      const total = u32(buf, at + 4);
      if (total < 12 || total % 4 !== 0 || total > 1 << 26) throw new PcapFormatError(`a pcapng block of ${total} bytes: the file is damaged`);
      if (buf.length - at < total) break;
      const body = buf.subarray(at + 8, at + total - 4);
      const blockType = u32(buf, at);
      if (blockType === 1) {
        interfaces.push({ linkType: u16(body, 0), ...tsResolution(body, little) });
      } else if (blockType === 6) {
        const iface = interfaces[u32(body, 0)];
        if (!iface) throw new PcapFormatError('a packet names an interface the file never described');
        const ts = (BigInt(u32(body, 4)) << 32n) | BigInt(u32(body, 8));
        const captured = u32(body, 12);
        yield { linkType: iface.linkType, tsUs: (ts * iface.tsMultiplier) / iface.tsDivisor, data: body.subarray(20, 20 + captured) };
      } else if (blockType === 3) {
        const iface = interfaces[0];
        if (iface) yield { linkType: iface.linkType, tsUs: 0n, data: body.subarray(4, Math.min(body.length, 4 + u32(body, 0))) };
      }
      at += total;
    }
    buf = at > 0 ? buf.subarray(at) : buf;
    if (at > 0) buf = Buffer.from(buf); // let the consumed chunk go
  }
  if (kind === undefined) throw new PcapFormatError('too short for a pcap file');
}

/** if_tsresol: 10^-n or 2^-n seconds per unit; the default is microseconds. Returns units → µs. */
function tsResolution(body: Buffer, little: boolean): { tsDivisor: bigint; tsMultiplier: bigint } {
  let at = 8;
  while (at + 4 <= body.length) {
    const code = little ? body.readUInt16LE(at) : body.readUInt16BE(at);
    const len = little ? body.readUInt16LE(at + 2) : body.readUInt16BE(at + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = body[at + 4]!;
      if (v & 0x80) return { tsDivisor: 1n << BigInt(v & 0x7f), tsMultiplier: 1_000_000n };
      const exp = v;
      return exp >= 6 ? { tsDivisor: 10n ** BigInt(exp - 6), tsMultiplier: 1n } : { tsDivisor: 1n, tsMultiplier: 10n ** BigInt(6 - exp) };
    }
    at += 4 + ((len + 3) & ~3);
  }
  return { tsDivisor: 1n, tsMultiplier: 1n };
}
