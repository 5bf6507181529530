import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, connected, uniqueId, until } from './support.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ persistence: false });
});
afterAll(async () => {
  await broker.stop();
});

describe.each([4, 5] as const)('interop with MQTT.js, protocol version %i', (protocolVersion) => {
  it.each([0, 1, 2] as const)('QoS %i: MQTT.js → atbridge and atbridge → MQTT.js', async (qos) => {
    const topic = `interop/${protocolVersion}/${qos}/${uniqueId()}`;
    const theirs = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion, clientId: uniqueId('js') });
    const ours = await connected(broker.port, { protocolVersion });
    try {
      const oursGot = collect(ours);
      const theirsGot: string[] = [];
      theirs.on('message', (t, payload) => {
        if (t === `${topic}/to-them`) theirsGot.push(payload.toString());
      });
      await ours.subscribe(`${topic}/to-us`, { qos });
      await theirs.subscribeAsync(`${topic}/to-them`, { qos });
      for (let i = 0; i < 20; i++) {
        await theirs.publishAsync(`${topic}/to-us`, `js-${i}`, { qos });
        await ours.publish(`${topic}/to-them`, `ab-${i}`, { qos });
      }
      await until(() => oursGot.length === 20 && theirsGot.length === 20, 'twenty each way');
      expect(oursGot.map((m) => m.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `js-${i}`));
      expect(theirsGot).toEqual(Array.from({ length: 20 }, (_, i) => `ab-${i}`));
      expect(oursGot.every((m) => m.qos === qos)).toBe(true);
    } finally {
      await theirs.endAsync();
      await ours.end();
    }
  });

  it('MQTT 5 properties from atbridge arrive at MQTT.js', async () => {
    if (protocolVersion !== 5) return;
    const topic = `props/${uniqueId()}`;
    const theirs = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, clientId: uniqueId('js') });
    const ours = await connected(broker.port, { protocolVersion: 5 });
    try {
      let props: Record<string, unknown> | undefined;
      theirs.on('message', (_t, _p, packet) => (props = packet.properties as Record<string, unknown>));
      await theirs.subscribeAsync(topic, { qos: 1 });
      await ours.publish(topic, '{}', { qos: 1, properties: { contentType: 'application/json', userProperties: { site: 'north' } } });
      await until(() => props !== undefined, 'the message');
      expect(props).toMatchObject({ contentType: 'application/json', userProperties: { site: 'north' } });
    } finally {
      await theirs.endAsync();
      await ours.end();
    }
  });
});
