import type { Packet } from 'mqtt-packet';

/**
 * One line per packet in mosquitto_pub/sub -d style ("sending PUBLISH (d0, q1, r0, m3, 't', ... (5 bytes))"),
 * so a log from atbridge reads like one from the mosquitto clients. Never shows the password.
 */
export function describePacket(packet: Packet): string {
  switch (packet.cmd) {
    case 'connect':
      return 'CONNECT';
    case 'connack':
      return `CONNACK (${packet.reasonCode ?? packet.returnCode ?? 0})`;
    case 'publish': {
      const length = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      return `PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.messageId ?? 0}, '${packet.topic}', ... (${length} bytes))`;
    }
    case 'pubrec':
      return `PUBREC (Mid: ${packet.messageId ?? 0})`;
    case 'puback':
    case 'pubcomp':
      return `${packet.cmd.toUpperCase()} (Mid: ${packet.messageId ?? 0}, RC:${packet.reasonCode ?? 0})`;
    case 'pubrel':
      return `PUBREL (m${packet.messageId ?? 0})`;
    case 'subscribe':
      return packet.subscriptions
        .map((s) => {
          const options = (s.nl ? 0x04 : 0) | (s.rap ? 0x08 : 0) | ((s.rh ?? 0) << 4);
          return `SUBSCRIBE (Mid: ${packet.messageId ?? 0}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${options.toString(16).padStart(2, '0')})`;
        })
        .join('; ');
    case 'suback':
      return 'SUBACK';
    case 'unsubscribe':
      return `UNSUBSCRIBE (Mid: ${packet.messageId ?? 0}, Topic: ${packet.unsubscriptions.join(', ')})`;
    case 'unsuback':
      return 'UNSUBACK';
    case 'disconnect':
      return packet.reasonCode ? `DISCONNECT (${packet.reasonCode})` : 'DISCONNECT';
    default:
      return packet.cmd.toUpperCase();
  }
}
