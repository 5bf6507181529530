import net from 'node:net';
import type { Duplex } from 'node:stream';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { MqttClient, type MqttClientOptions } from '../../src/mqtt/client.js';

/** A connect factory for a plain TCP broker on loopback. */
export function tcp(port: number, host = '127.0.0.1'): () => Promise<Duplex> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
}

let counter = 0;
export function uniqueId(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** A started client; tests end it in a finally or afterEach. */
export async function connected(port: number, options: Partial<MqttClientOptions> = {}): Promise<MqttClient> {
  const client = new MqttClient({ connect: tcp(port), clientId: uniqueId(), reconnect: false, ...options });
  await client.start();
  return client;
}

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

export function collect(client: MqttClient): Received[] {
  const list: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    list.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup });
  });
  return list;
}

/** Polls a condition (no fixed sleeps in assertions); fails with `what` after a generous deadline. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface FakeConnection {
  socket: net.Socket;
  packets: Packet[];
  send(packet: Packet): void;
}

/**
 * A scripted MQTT "broker" on loopback for what a real one will not do on demand
 * (never answer PINGREQ, withhold acks, claim a session).
 */
export async function fakeBroker(
  onPacket: (packet: Packet, connection: FakeConnection, index: number) => void,
  protocolVersion = 4,
): Promise<{ port: number; connections: FakeConnection[]; close(): Promise<void> }> {
  const connections: FakeConnection[] = [];
  const server = net.createServer((socket) => {
    const parser = mqttPacket.parser({ protocolVersion });
    const connection: FakeConnection = {
      socket,
      packets: [],
      send: (packet) => {
        if (!socket.destroyed) socket.write(mqttPacket.generate(packet, { protocolVersion }));
      },
    };
    const index = connections.length;
    connections.push(connection);
    parser.on('packet', (packet: Packet) => {
      connection.packets.push(packet);
      onPacket(packet, connection, index);
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
