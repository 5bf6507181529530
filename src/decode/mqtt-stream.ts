import mqttPacket, { type Packet, type Parser } from 'mqtt-packet';
import { describePacket } from '../mqtt/describe.js';
import { printable } from './printable.js';
import type { MqttSummary } from './timeline.js';

/** Valid first bytes of an MQTT packet (type and the flags each type allows). */
function plausibleFirstByte(b: number): boolean {
  const type = b >> 4;
  const flags = b & 0x0f;
  if (type === 0) return false;
  if (type === 3) return true;
  if (type === 6 || type === 8 || type === 10) return flags === 2;
  return flags === 0;
}

/**
 * Decodes MQTT packets from one direction of one socket. Bytes that are not MQTT (HTTP, a TLS
 * handshake) switch it off until the socket opens again, so any payload is safe to feed.
 *
 * Whole packets are cut out of the stream here. The common MQTT 3.1.1 shapes (PUBLISH and the
 * two-byte acknowledgements) are summarised straight from the bytes; every other packet (and
 * any bad first byte) goes, whole, to mqtt-packet's parser, which then always starts at a packet
 * boundary. Where the length itself is bad, everything from there on goes to mqtt-packet.
 */
export class MqttStream {
  private parser: Parser;
  /** The protocol version the parser was made with (a later CONNECT does not change it). */
  private parserVersion: 3 | 4 | 5 = 4;
  private found: Packet[] = [];
  private off = false;
  private started = false;
  /** The framing looked wrong: mqtt-packet reads everything from here on. */
  private slow = false;
  /** The start of a packet not yet complete. */
  private pending: Buffer | undefined;
  /** mqtt-packet holds the bytes of the packet in progress (`pending` is only for finding its end). */
  private inParser = false;
  /** The protocol version a CONNECT in this direction announced (3, 4 or 5). */
  connectVersion: number | undefined;
  version: 3 | 4 | 5 = 4;

  constructor() {
    this.parser = this.makeParser();
  }

  private makeParser(): Parser {
    const parser = mqttPacket.parser({ protocolVersion: this.version });
    this.parserVersion = this.version;
    parser.on('packet', (packet: Packet) => this.found.push(packet));
    parser.on('error', () => {
      this.off = true;
    });
    return parser;
  }

  /** Switches to MQTT 5 (the other direction's CONNECT said so). */
  setVersion(version: 3 | 4 | 5): void {
    if (version === this.version) return;
    this.version = version;
    if (this.started) return;
    this.parser = this.makeParser();
  }

  get disabled(): boolean {
    return this.off;
  }

  push(data: Buffer): MqttSummary[] {
    if (this.off || data.length === 0) return [];
    if (!this.started) {
      if (!plausibleFirstByte(data[0]!)) {
        this.off = true;
        return [];
      }
      this.started = true;
    }
    const out: MqttSummary[] = [];
    if (this.slow) {
      this.parseSlow(data, out);
      return out;
    }
    // mqtt-packet already holds the start of the current packet: it reads on to that packet's end.
    const handedOver = this.inParser;
    if (handedOver) this.parseSlow(data, out);
    const buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = undefined;
    const n = buf.length;
    let pos = 0;
    let fast = !handedOver;
    while (pos < n && !this.off) {
      const first = buf[pos]!;
      // Remaining length: 1 to 4 bytes, 7 bits each.
      let length = 0;
      let mul = 1;
      let i = pos + 1;
      let done = false;
      while (i < n && i < pos + 5) {
        const b = buf[i++]!;
        length += (b & 0x7f) * mul;
        mul *= 0x80;
        if ((b & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done) {
        if (i === pos + 5) {
          // Not MQTT framing: mqtt-packet has the last word (it stops with an error).
          if (fast) this.parseSlow(buf.subarray(pos), out);
          this.slow = true;
          return out;
        }
        break; // the length is not all here yet
      }
      const end = i + length;
      if (end > n) break;
      if (fast) {
        const summary = this.parserVersion === 5 ? undefined : fastSummary(buf, first, i, length);
        if (summary) out.push(summary);
        else {
          // mqtt-packet reads this packet and the rest of the buffer, as it would have without the fast path.
          fast = false;
          this.parseSlow(buf.subarray(pos), out);
        }
      }
      pos = end;
    }
    // Packet boundaries are the same for both readers (mqtt-packet consumes each packet's declared length).
    this.inParser = !fast && pos < n;
    if (pos < n) this.pending = buf.subarray(pos);
    return out;
  }

  private parseSlow(data: Buffer, out: MqttSummary[]): void {
    this.found = [];
    this.parser.parse(data);
    for (const packet of this.found) {
      if (packet.cmd === 'connect') this.connectVersion = packet.protocolVersion;
      out.push(summarizePacket(packet));
    }
    this.found = [];
  }
}

/**
 * The summary of a whole MQTT 3.1.1 PUBLISH or two-byte PUBACK/PUBREC/PUBREL/PUBCOMP read
 * straight from its bytes, exactly as summarizePacket would give it from mqtt-packet's parse;
 * undefined for any other packet (mqtt-packet reads those).
 */
function fastSummary(buf: Buffer, first: number, body: number, length: number): MqttSummary | undefined {
  const type = first >> 4;
  if (type === 3) {
    if (length < 2) return undefined;
    const topicLength = (buf[body]! << 8) | buf[body + 1]!;
    const qos = (first >> 1) & 3;
    if (qos === 3) return undefined;
    let at = body + 2 + topicLength;
    if (at - body + (qos > 0 ? 2 : 0) > length) return undefined;
    const topic = buf.toString('utf8', body + 2, at);
    let id: number | undefined;
    if (qos > 0) {
      id = (buf[at]! << 8) | buf[at + 1]!;
      at += 2;
    }
    const payload = buf.subarray(at, body + length);
    const retain = (first & 1) !== 0;
    const summary: MqttSummary = {
      type: 'PUBLISH',
      text: `PUBLISH (d${first & 8 ? 1 : 0}, q${qos}, r${retain ? 1 : 0}, m${id ?? 0}, '${topic}', ... (${payload.length} bytes))`,
      topic,
      qos,
      retain,
      payloadBytes: payload.length,
      payloadPreview: printable(payload, 48),
    };
    if (id !== undefined) summary.packetId = id;
    return summary;
  }
  if (type >= 4 && type <= 7 && length === 2 && (first & 0x0f) === (type === 6 ? 2 : 0)) {
    const id = (buf[body]! << 8) | buf[body + 1]!;
    const name = ACK_NAMES[type - 4]!;
    const text = type === 5 ? `PUBREC (Mid: ${id})` : type === 6 ? `PUBREL (m${id})` : `${name} (Mid: ${id}, RC:0)`;
    return { type: name, text, packetId: id };
  }
  return undefined;
}

const ACK_NAMES = ['PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP'] as const;

/** The fields a person wants to see of a packet; payload shown as a short preview only. */
export function summarizePacket(packet: Packet): MqttSummary {
  const summary: MqttSummary = { type: packet.cmd.toUpperCase(), text: describePacket(packet) };
  const p = packet as Packet & Record<string, unknown>;
  if (packet.cmd === 'publish') {
    summary.topic = packet.topic;
    summary.qos = packet.qos;
    summary.retain = packet.retain;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    summary.payloadBytes = payload.length;
    summary.payloadPreview = printable(payload, 48);
  }
  if (packet.cmd === 'subscribe') summary.topic = packet.subscriptions.map((s) => s.topic).join(',');
  if (packet.cmd === 'subscribe' && packet.subscriptions[0]) summary.qos = packet.subscriptions[0].qos;
  if (packet.cmd === 'unsubscribe') summary.topic = packet.unsubscriptions.join(',');
  if (packet.cmd === 'connect') summary.clientId = packet.clientId;
  if (typeof p.messageId === 'number') summary.packetId = p.messageId;
  if (packet.cmd === 'connack') summary.code = packet.reasonCode ?? packet.returnCode ?? 0;
  if (packet.cmd === 'suback') summary.code = (packet.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos));
  if ((packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubcomp' || packet.cmd === 'disconnect') && typeof p.reasonCode === 'number') {
    summary.code = p.reasonCode;
  }
  return summary;
}

/** Both directions of every socket, keyed by link. */
export class SocketDecoder {
  private readonly streams = new Map<string, { up: MqttStream; down: MqttStream }>();

  /** A socket (re)opened: start its MQTT decoding afresh. */
  reset(link: string): void {
    this.streams.delete(link);
  }

  push(link: string, direction: 'up' | 'down', data: Buffer): MqttSummary[] {
    let pair = this.streams.get(link);
    if (!pair) {
      pair = { up: new MqttStream(), down: new MqttStream() };
      this.streams.set(link, pair);
    }
    const stream = pair[direction];
    stream.connectVersion = undefined;
    const summaries = stream.push(data);
    const v = stream.connectVersion;
    if (v === 5 || v === 3) pair.down.setVersion(v);
    return summaries;
  }
}
