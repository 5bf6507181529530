import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AtbridgeError } from '../../src/errors.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, connected, tcp, uniqueId, until } from './support.js';

let broker: Mosquitto;
const open: MqttClient[] = [];

async function client(options: Parameters<typeof connected>[1] = {}): Promise<MqttClient> {
  const c = await connected(broker.port, options);
  open.push(c);
  return c;
}

beforeAll(async () => {
  broker = await startMosquitto();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end(true)));
});
afterAll(async () => {
  await broker.stop();
});

describe.each([3, 4, 5] as const)('MQTT protocol version %i against mosquitto', (protocolVersion) => {
  it.each([0, 1, 2] as const)('carries QoS %i both ways', async (qos) => {
    const topic = `v${protocolVersion}/q${qos}/${uniqueId()}`;
    const sub = await client({ protocolVersion, clientId: uniqueId('s').slice(0, 20) });
    const got = collect(sub);
    const granted = await sub.subscribe(topic, { qos });
    expect(granted).toEqual([qos]);
    const pub = await client({ protocolVersion, clientId: uniqueId('p').slice(0, 20) });
    for (let i = 0; i < 5; i++) await pub.publish(topic, `m${i}`, { qos });
    await until(() => got.length === 5, 'five messages');
    expect(got.map((m) => m.payload)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(got.every((m) => m.qos === qos && m.topic === topic)).toBe(true);
  });

  it('keeps a retained message for later subscribers and clears it with an empty one', async () => {
    const topic = `retain/${protocolVersion}/${uniqueId()}`;
    const pub = await client({ protocolVersion, clientId: uniqueId('p').slice(0, 20) });
    await pub.publish(topic, 'kept', { qos: 1, retain: true });
    const sub = await client({ protocolVersion, clientId: uniqueId('s').slice(0, 20) });
    const got = collect(sub);
    await sub.subscribe(topic, { qos: 1 });
    await until(() => got.length === 1, 'the retained message');
    expect(got[0]).toMatchObject({ payload: 'kept', retain: true });
    await pub.publish(topic, '', { qos: 1, retain: true });
    const later = await client({ protocolVersion, clientId: uniqueId('l').slice(0, 20) });
    const laterGot = collect(later);
    await later.subscribe([topic, `${topic}/marker`]);
    await pub.publish(`${topic}/marker`, 'x', { qos: 1 });
    await until(() => laterGot.length === 1, 'the marker');
    expect(laterGot[0]?.topic).toBe(`${topic}/marker`);
  });
});

describe('MQTT features against mosquitto', () => {
  it('delivers the will when the connection drops without DISCONNECT, and not after a clean end', async () => {
    const willTopic = `will/${uniqueId()}`;
    const watcher = await client();
    const got = collect(watcher);
    await watcher.subscribe(willTopic, { qos: 1 });
    const dying = await client({ will: { topic: willTopic, payload: 'gone', qos: 1 } });
    await dying.end(true);
    await until(() => got.length === 1, 'the will');
    expect(got[0]).toMatchObject({ topic: willTopic, payload: 'gone' });
    const polite = await client({ will: { topic: willTopic, payload: 'should not appear', qos: 1 } });
    await polite.end();
    const marker = await client();
    await marker.publish(willTopic, 'marker', { qos: 1 });
    await until(() => got.length === 2, 'the marker');
    expect(got.map((m) => m.payload)).toEqual(['gone', 'marker']);
  });

  it('matches + and # but keeps $SYS out of a wildcard that starts the filter', async () => {
    const base = uniqueId('w');
    const all = await client();
    const allGot = collect(all);
    await all.subscribe('#');
    const plus = await client();
    const plusGot = collect(plus);
    await plus.subscribe(`${base}/+/temp`);
    const sys = await client();
    const sysGot = collect(sys);
    await sys.subscribe('$SYS/broker/version');
    await until(() => sysGot.length === 1, 'the retained $SYS/broker/version');
    const pub = await client();
    await pub.publish(`${base}/kitchen/temp`, '21', { qos: 1 });
    await pub.publish(`${base}/kitchen/hum`, '40', { qos: 1 });
    await pub.publish(`${base}/end`, 'marker', { qos: 1 });
    await until(() => allGot.some((m) => m.topic === `${base}/end`), 'the marker on #');
    expect(allGot.some((m) => m.topic.startsWith('$'))).toBe(false);
    expect(plusGot.map((m) => m.topic)).toEqual([`${base}/kitchen/temp`]);
  });

  it('drops the connection when a packet is over the receive size cap, before buffering it', async () => {
    const topic = `big/${uniqueId()}`;
    const small = await client({ maxPacketSize: 1000 });
    const offline = new Promise<AtbridgeError | undefined>((resolve) => small.once('offline', resolve));
    await small.subscribe(topic);
    const pub = await client();
    await pub.publish(topic, Buffer.alloc(5000, 0x61), { qos: 1 });
    const reason = await offline;
    expect(reason?.code).toBe('mqtt-packet-too-large');
  });

  it('a persistent session gets the messages published while it was away, across a broker restart', async () => {
    const id = uniqueId('persist');
    const topic = `persist/${id}`;
    const first = await client({ clientId: id, clean: false });
    await first.subscribe(topic, { qos: 1 });
    await first.end();
    const pub = await client();
    for (let i = 0; i < 3; i++) await pub.publish(topic, `while-away-${i}`, { qos: 1 });
    await pub.end();
    await broker.restart();
    // Listen before start(): the stored messages follow CONNACK in the same TCP segment.
    const back = new MqttClient({ connect: tcp(broker.port), clientId: id, clean: false, reconnect: false });
    open.push(back);
    const got = collect(back);
    await back.start();
    await until(() => got.length === 3, 'the three stored messages');
    expect(got.map((m) => m.payload)).toEqual(['while-away-0', 'while-away-1', 'while-away-2']);
    await back.unsubscribe(topic);
  });

  it('reconnects after a broker restart and resubscribes when the session was lost', async () => {
    const topic = `resub/${uniqueId()}`;
    const sub = await client({ reconnect: { baseMs: 50, capMs: 200 } });
    const got = collect(sub);
    await sub.subscribe(topic, { qos: 1 });
    const connects: boolean[] = [];
    sub.on('connect', (connack) => connects.push(connack.sessionPresent));
    await broker.restart();
    await until(() => connects.length === 1 && sub.connected, 'the reconnect');
    expect(connects).toEqual([false]);
    const pub = await client();
    // The resubscribe races our publish: publish until the subscriber sees one.
    await until(() => {
      void pub.publish(topic, 'after-restart', { qos: 0 });
      return got.length > 0;
    }, 'a message after the restart');
    expect(got[0]?.payload).toBe('after-restart');
  });

  it('a publisher with a persistent session (in-memory queue) loses nothing over a broker restart', async () => {
    const topic = `resend/${uniqueId()}`;
    const sub = await client({ clientId: uniqueId('rs'), clean: false, reconnect: { baseMs: 50, capMs: 200 } });
    const got = collect(sub);
    await sub.subscribe(topic, { qos: 1 });
    const pub = await client({ clientId: uniqueId('rp'), clean: false, reconnect: { baseMs: 50, capMs: 200 }, inflight: 5 });
    const sends = Array.from({ length: 200 }, (_, i) => pub.publish(topic, `n${i}`, { qos: 1 }));
    await until(() => got.length > 20, 'some messages before the restart');
    await broker.restart();
    await Promise.all(sends);
    await until(() => new Set(got.map((m) => m.payload)).size === 200, 'all 200 messages at least once');
  });

  it('reports a refused CONNACK as a typed error', async () => {
    const authed = await startMosquitto({ auth: { username: 'alice', password: 's3cret' }, persistence: false });
    try {
      for (const protocolVersion of [4, 5] as const) {
        const bad = new MqttClient({ connect: tcp(authed.port), clientId: uniqueId(), username: 'alice', password: 'wrong', protocolVersion, reconnect: { baseMs: 10, capMs: 10 } });
        const error = await bad.start().then(
          () => undefined,
          (e: AtbridgeError) => e,
        );
        expect(error?.code).toBe('mqtt-connect-refused');
        expect(error?.message).toMatch(/bad user name or password|not authori[sz]ed/);
      }
      const good = new MqttClient({ connect: tcp(authed.port), clientId: uniqueId(), username: 'alice', password: 's3cret', reconnect: false });
      await good.start();
      await good.end();
    } finally {
      await authed.stop();
    }
  });

  it.each([4, 5] as const)('reports a client id clash (two clients with one id) with protocol version %i', async (protocolVersion) => {
    const id = uniqueId('clash');
    const errors: string[] = [];
    const make = () => {
      const c = new MqttClient({ connect: tcp(broker.port), clientId: id, protocolVersion, reconnect: { baseMs: 20, capMs: 40 } });
      c.on('error', (e) => errors.push(e.code));
      open.push(c);
      return c;
    };
    await make().start();
    await make().start();
    await until(() => errors.includes('client-id-conflict'), `a client-id-conflict error (saw ${errors.join(', ') || 'none'})`);
  });
});
