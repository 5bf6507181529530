import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { MqttClient as MqttJsClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

// ModemSocket must pass for a net.Socket where Node and the ecosystem expect one.
let broker: Mosquitto;
let session: OpenedModemSession;
beforeAll(async () => {
  broker = await startMosquitto({ tls: true });
  session = await openModemSession({ device: 'emu:sim7600?pacing=0', baud: 115200 });
}, 30_000);
afterAll(async () => {
  await session?.close();
  await broker?.stop();
});

function roundTrip(client: MqttJsClient, topic: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.on('error', reject);
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (err) => {
        if (err) return reject(err);
        client.publish(topic, `hello over ${topic}`, { qos: 1 });
      });
    });
    client.on('message', (_t, payload) => resolve(payload.toString()));
  });
}

describe('ModemSocket as a drop-in stream', () => {
  it('MQTT.js runs over it: new MqttClient(() => socket, opts)', async () => {
    const socket = await session.connect(broker.host, broker.port);
    const client = new MqttJsClient(() => socket as never, { protocolVersion: 4, clientId: 'mqttjs-over-modem', reconnectPeriod: 0 });
    try {
      expect(await roundTrip(client, 'compat/mqttjs')).toBe('hello over compat/mqttjs');
    } finally {
      await client.endAsync();
    }
    await new Promise((r) => (socket.destroyed ? r(undefined) : socket.once('close', r)));
  });

  it('tls.connect({ socket }) runs TLS on the host over it, verified against the test CA', async () => {
    const socket = await session.connect(broker.host, broker.tlsPort!);
    const secure = tls.connect({ socket, ca: readFileSync(broker.certs!.caFile), servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    expect(secure.authorized).toBe(true);
    const client = new MqttJsClient(() => secure as never, { protocolVersion: 5, clientId: 'tls-over-modem', reconnectPeriod: 0 });
    try {
      expect(await roundTrip(client, 'compat/tls')).toBe('hello over compat/tls');
    } finally {
      await client.endAsync();
    }
  });
});
