// TLS on this host over the module's plain TCP socket: the module carries only ciphertext and
// needs neither certificates nor SSL firmware. Node's own tls.connect does the work.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { MqttClient, openModemSession } from 'atbridge';
import { APN, DEVICE, MQTT_HOST, MQTT_PORT, run } from './env.js';

run(async () => {
  const caFile = process.env.CA_FILE;
  if (!caFile) {
    console.error('set CA_FILE to the broker CA certificate (PEM)');
    process.exitCode = 2;
    return;
  }
  const ca = readFileSync(caFile);
  const session = await openModemSession({ device: DEVICE, apn: APN });
  const client = new MqttClient({
    connect: async () => {
      const socket = await session.connect(MQTT_HOST, MQTT_PORT);
      const secure = tls.connect({ socket, ca, servername: process.env.TLS_SERVERNAME ?? 'localhost' });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
      console.log(`TLS ${secure.getProtocol()} ${secure.getCipher().name}, certificate ${secure.authorized ? 'verified' : 'NOT verified'}`);
      return secure;
    },
    clientId: 'tls-via-module',
    reconnect: false,
  });
  await client.start();
  await client.publish('secure/hello', 'over TLS through the module', { qos: 1 });
  console.log('published over TLS');
  await client.end();
  await session.close();
});
