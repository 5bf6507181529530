import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import type { MqttClientOptions, ProtocolVersion } from './client.js';
import type { QueuedMessage } from './outbound-queue.js';

/** CONNECT for this client's options; MQTT 3.1 speaks "MQIsdp", 5 adds session expiry and our receive cap. */
export function connectPacket(o: MqttClientOptions, protocolVersion: ProtocolVersion, clientId: string, keepalive: number): IConnectPacket {
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion,
    clientId,
    clean: o.clean ?? true,
    keepalive,
  };
  if (o.username !== undefined) packet.username = o.username;
  if (o.password !== undefined) packet.password = Buffer.from(o.password);
  if (o.will) {
    packet.will = { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos ?? 0, retain: o.will.retain ?? false };
    if (o.will.properties && protocolVersion === 5) packet.will.properties = o.will.properties;
  }
  if (protocolVersion === 5) {
    // As mosquitto_pub: no -x means 0 for a clean session and "never expires" for a persistent one.
    const expiry = o.sessionExpiry ?? ((o.clean ?? true) ? 0 : 0xffffffff);
    // Announcing our receive cap lets the broker drop an oversized message instead of killing the link.
    packet.properties = { ...o.connectProperties, maximumPacketSize: o.maxPacketSize ?? 1024 * 1024 };
    if (expiry > 0) packet.properties.sessionExpiryInterval = expiry;
  }
  return packet;
}

/** PUBLISH for a queued message, with its stored packet id (DUP=1 on a resend). */
export function publishPacket(entry: QueuedMessage, dup: boolean, protocolVersion: ProtocolVersion): IPublishPacket {
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: entry.topic,
    payload: entry.payload,
    qos: entry.qos,
    retain: entry.retain,
    dup,
    messageId: entry.packetId ?? 0,
  };
  if (entry.properties && protocolVersion === 5) packet.properties = entry.properties;
  return packet;
}
