import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, tcp, uniqueId } from './support.js';

// MQTT through the emulated module's socket to a real mosquitto, both families, both protocol versions.
let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const families = [
  ['sim7600', 'emu:sim7600?pacing=0'],
  ['esp-at', 'emu:esp-at?pacing=0'],
] as const;

describe.each(families)('%s', (_family, device) => {
  let session: OpenedModemSession;
  beforeAll(async () => {
    session = await openModemSession({ device, baud: 115200, wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' });
  }, 30_000);
  afterAll(async () => {
    await session?.close();
  });

  it.each([4, 5] as const)('MQTT v%i: QoS 0, 1 and 2 both ways and a retained message', async (protocolVersion) => {
    const topic = `interop/${uniqueId()}`;
    const viaModem = new MqttClient({ connect: () => session.connect(broker.host, broker.port), clientId: uniqueId('modem'), protocolVersion, reconnect: false });
    const direct = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('direct'), protocolVersion, reconnect: false });
    const atModem = collect(viaModem);
    const atDirect = collect(direct);
    try {
      await viaModem.start();
      await direct.start();
      await viaModem.subscribe(`${topic}/down`, { qos: 2 });
      await direct.subscribe(`${topic}/up`, { qos: 2 });
      for (const qos of [0, 1, 2] as const) {
        await viaModem.publish(`${topic}/up`, `up-${qos}`, { qos });
        await direct.publish(`${topic}/down`, `down-${qos}`, { qos });
      }
      await viaModem.publish(`${topic}/up/kept`, 'retained', { qos: 1, retain: true });
      await until(() => atModem.length === 3 && atDirect.length === 3, 'messages both ways');
      expect(atDirect.map((m) => [m.payload, m.qos])).toEqual([['up-0', 0], ['up-1', 1], ['up-2', 2]]);
      expect(atModem.map((m) => [m.payload, m.qos])).toEqual([['down-0', 0], ['down-1', 1], ['down-2', 2]]);
      const late = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('late'), protocolVersion, reconnect: false });
      const atLate = collect(late);
      await late.start();
      await late.subscribe(`${topic}/up/kept`, { qos: 1 });
      await until(() => atLate.length === 1, 'the retained message');
      expect(atLate[0]).toMatchObject({ payload: 'retained', retain: true });
      await late.end();
    } finally {
      await viaModem.end();
      await direct.end();
    }
  });

  it('the will is delivered when the module link is cut (module reboot)', async () => {
    const topic = `will/${uniqueId()}`;
    const watcher = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('watch'), reconnect: false });
    const seen = collect(watcher);
    await watcher.start();
    await watcher.subscribe(topic, { qos: 1 });
    const viaModem = new MqttClient({
      connect: () => session.connect(broker.host, broker.port),
      clientId: uniqueId('will'),
      keepalive: 5,
      will: { topic, payload: 'gateway gone', qos: 1 },
      reconnect: false,
    });
    viaModem.on('error', () => {});
    await viaModem.start();
    session.device.emulator!.inject({ kind: 'reboot' });
    await until(() => seen.length === 1, 'the will');
    expect(seen[0]!.payload).toBe('gateway gone');
    await viaModem.end(true).catch(() => undefined);
    await watcher.end();
  });

  it('a persistent session receives, through the module, what was published while it was offline', async () => {
    const id = uniqueId('persist');
    const topic = `persist/${id}`;
    const make = () => new MqttClient({ connect: () => session.connect(broker.host, broker.port), clientId: id, clean: false, reconnect: false });
    const first = make();
    await first.start();
    await first.subscribe(topic, { qos: 1 });
    await first.end();
    const publisher = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('pub'), reconnect: false });
    await publisher.start();
    await publisher.publish(topic, 'while you were away', { qos: 1 });
    await publisher.end();
    const second = make();
    const got = collect(second);
    await second.start();
    await until(() => got.length === 1, 'the queued message');
    expect(got[0]!.payload).toBe('while you were away');
    await second.end();
  });

  it('a client id clash (the same id on the module and on another connection) is reported as client-id-conflict', async () => {
    const id = uniqueId('clash');
    const errors: string[] = [];
    const viaModem = new MqttClient({ connect: () => session.connect(broker.host, broker.port), clientId: id, reconnect: { baseMs: 50, capMs: 100 } });
    const other = new MqttClient({ connect: tcp(broker.port), clientId: id, reconnect: { baseMs: 50, capMs: 100 } });
    viaModem.on('error', (e) => errors.push(e.code));
    other.on('error', () => {});
    try {
      await viaModem.start();
      await other.start();
      await until(() => errors.includes('client-id-conflict'), `client-id-conflict (saw ${errors.join(', ') || 'none'})`, 30_000);
    } finally {
      await other.end(true).catch(() => undefined);
      await viaModem.end(true).catch(() => undefined);
    }
  }, 45_000);
});
