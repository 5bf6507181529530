// A sensor publishing readings through a SIM7600 with a durable queue: readings go to disk
// first and leave it only when the broker has acknowledged them, so a power cut or a lost
// network loses nothing; the next run sends what is left.
import { DurableQueue, MqttClient, openModemSession } from 'atbridge';
import { APN, DEVICE, MQTT_HOST, MQTT_PORT, run } from './env.js';

run(async () => {
  const queueDir = process.env.QUEUE_DIR ?? './sensor-queue';
  const readings = Number(process.env.READINGS ?? 5);

  const session = await openModemSession({ device: DEVICE, apn: APN });
  const queue = DurableQueue.open({ dir: queueDir });
  if (queue.size > 0) console.log(`resending ${queue.size} reading(s) from an earlier run`);
  const client = new MqttClient({
    connect: () => session.connect(MQTT_HOST, MQTT_PORT),
    clientId: 'sensor-1',
    clean: false,
    queue,
    reconnect: { baseMs: 500, capMs: 30_000, retryInitial: true },
  });
  client.on('offline', (why) => console.log(`offline: ${why?.message ?? 'closed'}; readings wait on disk`));
  await client.start();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < readings; i++) {
    const reading = JSON.stringify({ n: i, celsius: 20 + i / 10 });
    sent.push(client.publish('site/1/temp', reading, { qos: 1 }));
  }
  await Promise.all(sent);
  console.log(`delivered ${readings} reading(s); ${queue.size} left in the queue`);
  await client.end();
  queue.close();
  await session.close();
});
