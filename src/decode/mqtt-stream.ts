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
 */
export class MqttStream {
  private parser: Parser;
  private found: Packet[] = [];
  private off = false;
  private started = false;
  version: 3 | 4 | 5 = 4;

  constructor() {
    this.parser = this.makeParser();
  }

  private makeParser(): Parser {
    const parser = mqttPacket.parser({ protocolVersion: this.version });
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

  push(data: Buffer): Packet[] {
    if (this.off || data.length === 0) return [];
    if (!this.started) {
      if (!plausibleFirstByte(data[0]!)) {
        this.off = true;
        return [];
      }
      this.started = true;
    }
    this.found = [];
    this.parser.parse(data);
    const out = this.found;
    this.found = [];
    return out;
  }
}

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
    const packets = pair[direction].push(data);
    for (const packet of packets) {
      if (packet.cmd === 'connect' && (packet.protocolVersion === 5 || packet.protocolVersion === 3)) {
        pair.down.setVersion(packet.protocolVersion);
      }
    }
    return packets.map(summarizePacket);
  }
}
