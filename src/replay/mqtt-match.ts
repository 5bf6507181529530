import { isDeepStrictEqual } from 'node:util';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import { packetSize } from '../mqtt/frame-reader.js';

/**
 * Client ids a tool makes up when none is given: atbridge's `atbridge-<command>-<pid>`,
 * mosquitto's `mosq-<random>`, MQTT.js's `mqttjs_<hex>`. A replayed run gets a new one.
 */
const AUTO_CLIENT_ID = /^(?:atbridge-[a-z]+-\d+|mosq-[A-Za-z0-9]+|mqttjs_[0-9a-f]+)$/;

export function isAutoClientId(id: string): boolean {
  return AUTO_CLIENT_ID.test(id);
}

/** Every byte of the payload as whole MQTT packets, or undefined when it is not that. */
export function parsePackets(data: Buffer): Packet[] | undefined {
  if (data.length === 0) return undefined;
  const packets: Packet[] = [];
  let failed = false;
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p: Packet) => packets.push(p));
  parser.on('error', () => (failed = true));
  const left = parser.parse(data);
  return failed || left !== 0 || packets.length === 0 ? undefined : packets;
}

/**
 * Total length of the MQTT packet at the start of `data`, or undefined while its header is
 * incomplete — or malformed: replay then keeps reading, as for any payload it cannot size.
 */
export function packetLength(data: Buffer): number | undefined {
  try {
    return packetSize(data);
  } catch {
    return undefined;
  }
}

export interface AutoConnect {
  /** Bytes of the recorded CONNECT packet. */
  length: number;
  /** Bytes of its client id. */
  idBytes: number;
}

/**
 * When the recorded payload starts with a CONNECT whose client id was made up by the tool, its
 * length and the id's: a replayed run sends another id, perhaps of another length.
 */
export function autoConnect(recorded: Buffer): AutoConnect | undefined {
  if (recorded[0] !== 0x10) return undefined;
  if (autoConnects.has(recorded)) return autoConnects.get(recorded);
  const length = packetLength(recorded);
  const packet = length !== undefined && length <= recorded.length ? parsePackets(recorded.subarray(0, length))?.[0] : undefined;
  const found = packet?.cmd === 'connect' && isAutoClientId(packet.clientId) ? { length: length!, idBytes: Buffer.byteLength(packet.clientId) } : undefined;
  autoConnects.set(recorded, found);
  return found;
}

/** Recorded payloads are looked at for each host byte and command: parse each once. */
const autoConnects = new WeakMap<Buffer, AutoConnect | undefined>();

/**
 * Whether the host's payload stands for the recorded one. Equal bytes do; else both must be
 * whole MQTT packets, of the same types in the same order, with the same fields, except that a
 * CONNECT's made-up client id (see AUTO_CLIENT_ID) and a masked password (traces keep one '*'
 * per byte) are not compared: those change from run to run, the rest of the session does not.
 */
export function samePayload(recorded: Buffer, got: Buffer): boolean {
  if (recorded.equals(got)) return true;
  const want = parsePackets(recorded);
  const have = parsePackets(got);
  if (!want || !have || want.length !== have.length) return false;
  return want.every((w, i) => isDeepStrictEqual(comparable(w, w), comparable(have[i]!, w)));
}

/** The fields of a packet that must agree with the recorded one (`recorded` says what to leave out). */
function comparable(packet: Packet, recorded: Packet): Record<string, unknown> {
  const { length: _length, ...fields } = packet as Packet & { length?: number };
  if (packet.cmd !== 'connect' || recorded.cmd !== 'connect') return fields;
  const connect = fields as Omit<IConnectPacket, 'length'>;
  const masked = recorded.password !== undefined && Buffer.from(recorded.password).every((b) => b === 0x2a);
  return {
    ...connect,
    clientId: isAutoClientId(recorded.clientId) ? '(made up)' : connect.clientId,
    password: connect.password === undefined ? undefined : masked ? '(masked)' : Buffer.from(connect.password),
  };
}
