// Polling signal and registration while an MQTT connection is open through the module:
// status() asks the module between sends, so the connection is not disturbed.
import { MqttClient, openModemSession } from 'atbridge';
import { APN, DEVICE, MQTT_HOST, MQTT_PORT, run } from './env.js';

run(async () => {
  const polls = Number(process.env.POLLS ?? 3);
  const session = await openModemSession({ device: DEVICE, apn: APN });
  session.on('state', (t) => console.log(`state ${t.from} -> ${t.to} (${t.reason})`));
  const client = new MqttClient({ connect: () => session.connect(MQTT_HOST, MQTT_PORT), clientId: 'poller', reconnect: false });
  await client.start();
  for (let i = 0; i < polls; i++) {
    const status = await session.status();
    const cell = status.cellular;
    const where = cell ? `registration ${JSON.stringify(cell.registration)}, operator ${cell.operator ?? '?'}` : `Wi-Fi ${status.wifi?.ssid ?? '?'}`;
    const rssi = cell?.rssi ?? status.wifi?.rssi;
    console.log(`poll ${i + 1}: state ${status.state}, rssi ${rssi ?? '?'}, ${where}`);
    await client.publish('site/1/signal', String(rssi ?? ''), { qos: 0 });
    await new Promise((r) => setTimeout(r, 200));
  }
  await client.end();
  await session.close();
});
