import type { IConnectPacket, IPublishPacket, QoS } from 'mqtt-packet';
import type { QueuedMessage } from './outbound-queue.js';

/** MQTT protocol level: 3 = MQTT 3.1, 4 = 3.1.1, 5 = MQTT 5. */
export type ProtocolVersion = 3 | 4 | 5;

/** The last-will message the broker publishes if the client goes away without DISCONNECT. */
export interface WillOptions {
  topic: string;
  payload: Buffer | string;
  qos?: QoS;
  retain?: boolean;
  properties?: NonNullable<IConnectPacket['will']>['properties'];
}

/** What a client's CONNECT carries besides its id and keepalive ({@link MqttClientOptions} has all of it). */
export interface ConnectSettings {
  /** User name for the broker's authentication. */
  username?: string;
  /** Password (never logged or traced). */
  password?: string | Buffer;
  /** Clean session (default true). false = persistent session, kept by the broker while offline. */
  clean?: boolean;
  /** MQTT 5 session expiry, seconds (default: 0 when clean, "never" when persistent — as mosquitto_pub -x). */
  sessionExpiry?: number;
  /** The last will, published by the broker if the client vanishes. */
  will?: WillOptions;
  /** Largest packet accepted from the broker, checked from its header before buffering. Default 1 MiB. */
  maxPacketSize?: number;
  /** Extra MQTT 5 CONNECT properties. */
  connectProperties?: IConnectPacket['properties'];
}

/** CONNECT for this client's options; MQTT 3.1 speaks "MQIsdp", 5 adds session expiry and our receive cap. */
export function connectPacket(o: ConnectSettings, protocolVersion: ProtocolVersion, clientId: string, keepalive: number): IConnectPacket {
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
