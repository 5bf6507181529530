import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QoS } from 'mqtt-packet';
import type { Bridge } from '../../src/bridge/bridge.js';
import type { MqttClient } from '../../src/mqtt/client.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { keys, startWorld, Tally, until, type BridgeWorld } from './support.js';

/**
 * The bridge in this process between two real mosquittos, the remote reached through the emulated
 * SIM7600 (its sockets are real loopback TCP). Faults are injected into the module at run time.
 */
let localBroker: Mosquitto;
let remoteBroker: Mosquitto;
let bridge: Bridge;
let atLocal: Tally;
let atRemote: Tally;
let localPub: MqttClient;
let remotePub: MqttClient;

const ROUTES = ['topic sensors/# out 1', 'topic cmd/# in 2', 'topic both/# both 2 site/ cloud/site1/', 'topic q0/# out 0', 'topic q2/# out 2'];

let world: BridgeWorld | undefined;

beforeAll(async () => {
  world = await startWorld({
    lines: ROUTES,
    localFilters: ['site/#', 'cmd/#', 'atbridge/#'],
    remoteFilters: ['sensors/#', 'cloud/#', 'q0/#', 'q2/#', 'extra/#', 'atbridge/#'],
  });
  ({ localBroker, remoteBroker, bridge, atLocal, atRemote, localPub, remotePub } = world);
}, 40_000);

afterAll(() => world?.stop());

function publishAll(client: MqttClient, topic: string, prefix: string, n: number, qos: QoS): Promise<void[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => client.publish(topic, `${prefix}-${i}`, { qos })));
}

/** A message sent after `keys` on the same path: once it is in, anything still missing is lost for good. */
async function drainedWith(client: MqttClient, topic: string, tally: Tally, arrivedAs = topic): Promise<void> {
  const marker = `marker-${Date.now()}-${Math.random()}`;
  await client.publish(topic, marker, { qos: 1 });
  await until(() => tally.count(`${arrivedAs} ${marker}`) > 0, `marker on ${arrivedAs}`);
}

describe('bridge through the emulated module', () => {
  it('carries out, in and both with prefixes at QoS 0/1/2, exactly once each, with no loop', async () => {
    const before = { out: bridge.stats.out.messages, in: bridge.stats.in.messages };
    await Promise.all([
      publishAll(localPub, 'sensors/a', 's', 10, 1),
      publishAll(localPub, 'q0/t', 'z', 5, 0),
      publishAll(localPub, 'q2/t', 'd', 10, 2),
      publishAll(localPub, 'site/both/l', 'l', 10, 2),
      publishAll(remotePub, 'cmd/x', 'c', 10, 2),
      publishAll(remotePub, 'cloud/site1/both/r', 'r', 10, 2),
    ]);
    const remoteKeys = [...keys('sensors/a', 's', 10), ...keys('q0/t', 'z', 5), ...keys('q2/t', 'd', 10), ...keys('cloud/site1/both/l', 'l', 10)];
    const localKeys = [...keys('cmd/x', 'c', 10), ...keys('site/both/r', 'r', 10)];
    await until(() => atRemote.check(remoteKeys).missing === 0 && atLocal.check(localKeys).missing === 0, 'every message across');
    // An echo would come back along the both route: push a marker each way behind the messages.
    await drainedWith(localPub, 'site/both/l', atRemote, 'cloud/site1/both/l');
    await drainedWith(remotePub, 'cloud/site1/both/r', atLocal, 'site/both/r');
    expect(atRemote.check(remoteKeys)).toEqual({ missing: 0, duplicated: 0 });
    expect(atLocal.check(localKeys)).toEqual({ missing: 0, duplicated: 0 });
    // No loop: what the bridge published on one side never came back to it and out again.
    expect(atLocal.check(keys('site/both/l', 'l', 10))).toEqual({ missing: 0, duplicated: 0 });
    expect(atRemote.check(keys('cloud/site1/both/r', 'r', 10))).toEqual({ missing: 0, duplicated: 0 });
    expect(bridge.stats.out.messages - before.out).toBe(36);
    expect(bridge.stats.in.messages - before.in).toBe(21);
  });

  it('reports health: retained status JSON on the local broker and the notification state', async () => {
    const id = (await bridge.status()).id;
    await until(() => atRemote.count(`atbridge/${id}/state 1`) > 0, 'state 1 on the remote');
    let status: Record<string, any> | undefined;
    atLocal.client.on('message', (topic, payload) => {
      if (topic === `atbridge/${id}/status`) status = JSON.parse(payload.toString()) as Record<string, any>;
    });
    await until(() => status?.link?.state === 'up' && status.out.messages > 0, 'a status with the link up');
    expect(status!.module.model).toBeTruthy();
    expect(status!.module.operator).toBeTruthy();
    expect(typeof status!.module.rssi).toBe('number');
    expect(status!.link.txBytes).toBeGreaterThan(0);
    expect(status!.queue.out).toMatchObject({ messages: expect.any(Number), dropped: 0 });
  });

  it('survives the remote broker restarting mid-stream: no QoS 1 lost, no QoS 2 duplicated', async () => {
    const connects = bridge.stats.link.connects;
    const sending = Promise.all([publishAll(localPub, 'sensors/r', 'r', 40, 1), publishAll(localPub, 'q2/r', 'r', 20, 2)]);
    await remoteBroker.restart();
    await sending;
    await until(() => atRemote.check([...keys('sensors/r', 'r', 40), ...keys('q2/r', 'r', 20)]).missing === 0, 'all after the restart', 30_000);
    await drainedWith(localPub, 'q2/r', atRemote);
    expect(atRemote.check(keys('q2/r', 'r', 20)).duplicated).toBe(0);
    expect(bridge.stats.link.connects).toBeGreaterThan(connects);
    await publishAll(remotePub, 'cmd/after-restart', 'a', 5, 1);
    await until(() => atLocal.check(keys('cmd/after-restart', 'a', 5)).missing === 0, 'in after the restart');
  }, 50_000);

  it('survives the module rebooting mid-stream', async () => {
    const recoveries = bridge.remoteLink.session!.modem.facts.recoveries;
    const first = Promise.all([publishAll(localPub, 'sensors/b', 'b', 15, 1), publishAll(localPub, 'q2/b', 'b', 10, 2)]);
    bridge.remoteLink.session!.device.emulator!.inject({ kind: 'reboot' });
    await first;
    await Promise.all([publishAll(localPub, 'sensors/b2', 'b', 15, 1), publishAll(localPub, 'q2/b2', 'b', 10, 2)]);
    const all = [...keys('sensors/b', 'b', 15), ...keys('q2/b', 'b', 10), ...keys('sensors/b2', 'b', 15), ...keys('q2/b2', 'b', 10)];
    await until(() => atRemote.check(all).missing === 0, 'all after the reboot', 30_000);
    await drainedWith(localPub, 'q2/b2', atRemote);
    expect(atRemote.check([...keys('q2/b', 'b', 10), ...keys('q2/b2', 'b', 10)]).duplicated).toBe(0);
    expect(bridge.remoteLink.session!.modem.facts.recoveries).toBeGreaterThan(recoveries);
  }, 50_000);

  it('queues on disk while the network is gone, then delivers in order', async () => {
    bridge.remoteLink.session!.device.emulator!.inject({ kind: 'registration-lost', ms: 3000 });
    bridge.remoteLink.session!.device.emulator!.inject({ kind: 'network-lost' });
    await until(() => bridge.stats.linkState !== 'up', 'link down');
    await publishAll(localPub, 'sensors/queued', 'q', 30, 1);
    // Acknowledged by the local broker (publish resolved) while the link is down: they are in the queue file.
    const depth = (await bridge.status()).queue.out.messages;
    expect(depth).toBeGreaterThan(0);
    await until(() => atRemote.check(keys('sensors/queued', 'q', 30)).missing === 0, 'queued messages delivered', 40_000);
    const arrived = atRemote.order.filter((k) => k.startsWith('sensors/queued '));
    const firsts = arrived.filter((k, i) => arrived.indexOf(k) === i);
    expect(firsts).toEqual(keys('sensors/queued', 'q', 30));
  }, 50_000);

  it('survives the local broker restarting: inbound messages wait in the queue', async () => {
    const restarting = localBroker.restart();
    await publishAll(remotePub, 'cmd/during-local-restart', 'l', 20, 2);
    await restarting;
    await until(() => atLocal.check(keys('cmd/during-local-restart', 'l', 20)).missing === 0, 'inbound after the local restart', 30_000);
    await drainedWith(remotePub, 'cmd/during-local-restart', atLocal);
    expect(atLocal.check(keys('cmd/during-local-restart', 'l', 20)).duplicated).toBe(0);
    await until(() => bridge.stats.localConnected, 'local back');
    await publishAll(localPub, 'sensors/after-local', 'x', 5, 1);
    await until(() => atRemote.check(keys('sensors/after-local', 'x', 5)).missing === 0, 'out after the local restart');
  }, 50_000);

  it('takes a new topic list (SIGHUP) and drops the subscriptions no longer wanted', async () => {
    const { parseTopicLine } = await import('../../src/bridge/routes.js');
    const base = ROUTES.map((l) => parseTopicLine(l.replace(/^topic /, '')));
    expect(bridge.setRoutes([...base, parseTopicLine('extra/# out 1')])).toEqual({ added: 1, removed: 0 });
    await until(async () => {
      await localPub.publish('extra/x', 'on', { qos: 1 });
      return atRemote.count('extra/x on') > 0;
    }, 'the new route');
    expect(bridge.setRoutes(base)).toEqual({ added: 0, removed: 1 });
    await until(async () => {
      // Unsubscribed once a message on it no longer arrives behind a marker on a kept route.
      const marker = `m-${Math.random()}`;
      await localPub.publish('extra/y', marker, { qos: 1 });
      await drainedWith(localPub, 'sensors/mark', atRemote);
      return atRemote.count(`extra/y ${marker}`) === 0;
    }, 'the removed route to stop');
  }, 40_000);
});
