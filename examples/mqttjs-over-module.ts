// MQTT.js riding the module's socket: the module's TCP connection is a net.Socket-like stream,
// so any Node MQTT client can use it as its transport.
import { MqttClient as MqttJs } from 'mqtt';
import { openModemSession } from 'atbridge';
import { APN, DEVICE, MQTT_HOST, MQTT_PORT, run } from './env.js';

run(async () => {
  const session = await openModemSession({ device: DEVICE, apn: APN });
  const socket = await session.connect(MQTT_HOST, MQTT_PORT);
  const client = new MqttJs(() => socket, { clientId: 'mqttjs-via-module', reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync('echo/#', { qos: 1 });
  const got = new Promise<string>((resolve) => client.once('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
  await client.publishAsync('echo/1', 'hello through the module', { qos: 1 });
  console.log(`received: ${await got}`);
  await client.endAsync();
  await session.close();
});
