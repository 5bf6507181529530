/**
 * A minimal pcapng writer (the blocks of draft-ietf-opsawg-pcapng): a Section Header Block, one
 * Interface Description Block and Enhanced Packet Blocks, little-endian, microsecond timestamps.
 */
export const LINKTYPE_RAW = 101;

function block(type: number, body: Buffer): Buffer {
  const padded = (body.length + 3) & ~3;
  const out = Buffer.alloc(12 + padded);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(out.length, 4);
  body.copy(out, 8);
  out.writeUInt32LE(out.length, out.length - 4);
  return out;
}

function option(code: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + ((value.length + 3) & ~3));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

const END_OF_OPTIONS = Buffer.alloc(4);

/** The file's first bytes: section header (with the writing application named) and one interface. */
export function pcapngHeader(linkType: number, application: string, interfaceName: string): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
  shb.writeUInt16LE(1, 4); // major
  shb.writeUInt16LE(0, 6); // minor
  shb.writeBigInt64LE(-1n, 8); // section length unknown
  const shbOptions = Buffer.concat([option(4, Buffer.from(application, 'utf8')), END_OF_OPTIONS]);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(linkType, 0);
  idb.writeUInt32LE(262144, 4); // snaplen
  const idbOptions = Buffer.concat([option(2, Buffer.from(interfaceName, 'utf8')), END_OF_OPTIONS]);
  return Buffer.concat([block(0x0a0d0d0a, Buffer.concat([shb, shbOptions])), block(1, Buffer.concat([idb, idbOptions]))]);
}

/** One packet at a time in microseconds since the epoch. */
export function enhancedPacket(timestampUs: bigint, data: Buffer, interfaceId = 0): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(interfaceId, 0);
  head.writeUInt32LE(Number((timestampUs >> 32n) & 0xffffffffn), 4);
  head.writeUInt32LE(Number(timestampUs & 0xffffffffn), 8);
  head.writeUInt32LE(data.length, 12);
  head.writeUInt32LE(data.length, 16);
  return block(6, Buffer.concat([head, data]));
}
