import { Duplex } from 'node:stream';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import type { AtbridgeError } from '../../src/errors.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableQueue } from '../../src/mqtt/durable-queue.js';
import { MemoryQueue } from '../../src/mqtt/outbound-queue.js';
import { fakeBroker, tcp, until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('keepalive on a slow or half-dead link', () => {
  it('declares the link dead when PINGREQ goes unanswered, even while QoS 0 messages keep arriving', async () => {
    let feeder: NodeJS.Timeout | undefined;
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') {
        connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
        // A chatty broker whose own direction works: QoS 0 traffic every 50 ms, PINGREQ ignored.
        let n = 0;
        feeder = setInterval(() => connection.send({ cmd: 'publish', topic: 'chatter', payload: Buffer.from(String(n++)), qos: 0, retain: false, dup: false }), 50);
      }
    });
    cleanups.push(async () => {
      clearInterval(feeder);
      await broker.close();
    });
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'ka', keepalive: 1, pingTimeoutMs: 500, reconnect: false });
    let received = 0;
    client.on('message', () => received++);
    const offline = new Promise<AtbridgeError | undefined>((resolve) => client.once('offline', resolve));
    const closed = new Promise<void>((resolve) => client.once('close', resolve));
    await client.start();
    const reason = await offline;
    await closed;
    expect(reason?.code).toBe('keepalive-timeout');
    expect(received).toBeGreaterThan(0);
    expect(broker.connections[0]?.packets.some((p) => p.cmd === 'pingreq')).toBe(true);
  });

  it('waits for PINGRESP behind a big packet that is still trickling in over a slow link', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'pingreq' && trickle === undefined) {
        // A 4 kB message at "a few hundred bytes a tick", far slower than the ping timeout; PINGRESP after it.
        const big = mqttPacket.generate({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(4000, 0x62), qos: 0, retain: false, dup: false });
        let offset = 0;
        trickle = setInterval(() => {
          connection.socket.write(big.subarray(offset, offset + 250));
          offset += 250;
          if (offset >= big.length) {
            clearInterval(trickle);
            connection.send({ cmd: 'pingresp' });
          }
        }, 60);
      } else if (packet.cmd === 'pingreq') {
        connection.send({ cmd: 'pingresp' });
      }
    });
    cleanups.push(async () => {
      clearInterval(trickle);
      await broker.close();
    });
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'slow', keepalive: 1, pingTimeoutMs: 300, reconnect: false });
    const offline: string[] = [];
    client.on('offline', (reason) => offline.push(reason?.code ?? 'closed'));
    let bigArrived = false;
    client.on('message', (topic, payload) => (bigArrived = topic === 'big' && payload.length === 4000));
    await client.start();
    await until(() => bigArrived, 'the big message');
    await until(() => (broker.connections[0]?.packets.filter((p) => p.cmd === 'pingreq').length ?? 0) >= 2, 'the next ping');
    expect(offline).toEqual([]);
    await client.end();
  });

  it('a PUBLISH owed an answer and nothing from the broker: the link is dead after the ping timeout, not a keepalive later', async () => {
    // A broker (or a TLS record damaged on the line) that goes silent: no PUBACK, nothing else.
    // Before, only the next PINGREQ (here 60 s away) could find it: keepalive + ping timeout.
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'pingreq') connection.send({ cmd: 'pingresp' });
    });
    cleanups.push(() => broker.close());
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'owed', keepalive: 60, pingTimeoutMs: 400, reconnect: false });
    const offline = new Promise<AtbridgeError | undefined>((resolve) => client.once('offline', resolve));
    await client.start();
    const started = Date.now();
    client.publish('t/owed', 'x', { qos: 1 }).catch(() => undefined);
    const reason = await Promise.race([offline, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
    expect(reason?.code).toBe('keepalive-timeout');
    expect(reason?.message).toMatch(/nothing from the broker for 0.4 s while it owed an answer/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(broker.connections[0]?.packets.some((p) => p.cmd === 'pingreq')).toBe(false);
    await client.end(true);
  });

  it('an answer queued behind messages to us: a broker that sends anything is not given up on', async () => {
    // The PUBACK comes 1.2 s late, behind QoS 0 traffic every 50 ms: the link carries; no timeout at 0.3 s.
    let feeder: NodeJS.Timeout | undefined;
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'publish' && packet.qos === 1) {
        let n = 0;
        feeder = setInterval(() => connection.send({ cmd: 'publish', topic: 'backlog', payload: Buffer.from(String(n++)), qos: 0, retain: false, dup: false }), 50);
        setTimeout(() => {
          clearInterval(feeder);
          connection.send({ cmd: 'puback', messageId: packet.messageId! });
        }, 1200);
      }
    });
    cleanups.push(async () => {
      clearInterval(feeder);
      await broker.close();
    });
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'late', keepalive: 60, pingTimeoutMs: 300, reconnect: false });
    const offline: string[] = [];
    client.on('offline', (reason) => offline.push(reason?.code ?? 'closed'));
    await client.start();
    await client.publish('t/late', 'x', { qos: 1 });
    // Answered: nothing owed, so silence after it ends nothing either.
    await new Promise((r) => setTimeout(r, 600));
    expect(offline).toEqual([]);
    expect(client.connected).toBe(true);
    await client.end();
  });

  it('stays up when PINGRESP comes back', async () => {
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'pingreq') connection.send({ cmd: 'pingresp' });
    });
    cleanups.push(() => broker.close());
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'ka2', keepalive: 1, pingTimeoutMs: 2000, reconnect: false });
    await client.start();
    await until(() => (broker.connections[0]?.packets.filter((p) => p.cmd === 'pingreq').length ?? 0) >= 2, 'two pings');
    expect(client.connected).toBe(true);
    await client.end();
  });
});

describe('session resume', () => {
  it('resends unacknowledged PUBLISH with DUP=1 and PUBREL in their original order when the session is present', async () => {
    const broker = await fakeBroker((packet, connection, index) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: index > 0 });
      if (index === 0 && packet.cmd === 'publish') {
        // First link: acknowledge half of the QoS 2 flow (PUBREC) for message "b" only, then die.
        if (packet.payload.toString() === 'b') connection.send({ cmd: 'pubrec', messageId: packet.messageId ?? 0 });
        if (packet.payload.toString() === 'c') setTimeout(() => connection.socket.destroy(), 20);
      }
      if (index === 1 && packet.cmd === 'publish') {
        connection.send({ cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId ?? 0 });
      }
      if (index === 1 && packet.cmd === 'pubrel') connection.send({ cmd: 'pubcomp', messageId: packet.messageId ?? 0 });
    });
    cleanups.push(() => broker.close());
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'resume', clean: false, reconnect: { baseMs: 10, capMs: 20 } });
    cleanups.push(() => client.end(true));
    await client.start();
    const done = Promise.all([
      client.publish('t/a', 'a', { qos: 1 }),
      client.publish('t/b', 'b', { qos: 2 }),
      client.publish('t/c', 'c', { qos: 2 }),
    ]);
    await done;
    const first = broker.connections[0]!.packets.filter((p) => p.cmd === 'publish') as IPublishPacket[];
    const second = broker.connections[1]!.packets.filter((p) => p.cmd !== 'connect' && p.cmd !== 'pingreq');
    const ids = Object.fromEntries(first.map((p) => [p.payload.toString(), p.messageId]));
    expect(second.slice(0, 3).map(summary)).toEqual([
      `publish dup a ${ids.a}`,
      `pubrel ${ids.b}`,
      `publish dup c ${ids.c}`,
    ]);
  });

  it('sends unfinished messages again as new, and resubscribes, when the broker lost the session', async () => {
    const broker = await fakeBroker((packet, connection, index) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'subscribe') connection.send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted: packet.subscriptions.map((s) => s.qos) });
      if (index === 0 && packet.cmd === 'publish') setTimeout(() => connection.socket.destroy(), 20);
      if (index === 1 && packet.cmd === 'publish') connection.send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
    });
    cleanups.push(() => broker.close());
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'lost', clean: false, reconnect: { baseMs: 10, capMs: 20 } });
    cleanups.push(() => client.end(true));
    await client.start();
    await client.subscribe('s/#', { qos: 1 });
    await client.publish('t/x', 'x', { qos: 1 });
    const second = broker.connections[1]!.packets.filter((p) => p.cmd === 'publish' || p.cmd === 'subscribe');
    expect(second.map(summary)).toEqual(['subscribe s/#', expect.stringMatching(/^publish new x \d+$/)]);
  });
});

describe('writes and packet ids', () => {
  it('writes every packet as exactly one Buffer on the Duplex', async () => {
    const writes: Buffer[] = [];
    const protocolVersion = 5;
    const parser = mqttPacket.parser({ protocolVersion });
    let reply: (p: Packet) => void = () => {};
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk);
        parser.parse(chunk);
        callback();
      },
      final(callback) {
        this.push(null); // the "broker" closes its side after DISCONNECT
        callback();
      },
    });
    reply = (p) => stream.push(mqttPacket.generate(p, { protocolVersion }));
    parser.on('packet', (p: Packet) => {
      if (p.cmd === 'connect') reply({ cmd: 'connack', reasonCode: 0, sessionPresent: false });
      if (p.cmd === 'publish' && p.qos === 1) reply({ cmd: 'puback', messageId: p.messageId ?? 0 });
      if (p.cmd === 'publish' && p.qos === 2) reply({ cmd: 'pubrec', messageId: p.messageId ?? 0 });
      if (p.cmd === 'pubrel') reply({ cmd: 'pubcomp', messageId: p.messageId ?? 0 });
      if (p.cmd === 'subscribe') reply({ cmd: 'suback', messageId: p.messageId ?? 0, granted: [2] });
    });
    const client = new MqttClient({
      connect: async () => stream,
      protocolVersion,
      clientId: 'writes',
      username: 'u',
      password: 'p',
      will: { topic: 'w', payload: 'bye', qos: 1 },
      reconnect: false,
    });
    await client.start();
    await client.subscribe('in/#', { qos: 2 });
    await client.publish('a', Buffer.alloc(3000, 1), { qos: 0 });
    await client.publish('b', 'one', { qos: 1 });
    await client.publish('c', 'two', { qos: 2 });
    reply({ cmd: 'publish', topic: 'in/x', payload: Buffer.from('q2'), qos: 2, messageId: 9, retain: false, dup: false });
    reply({ cmd: 'pubrel', messageId: 9 });
    await until(() => writes.length >= 8, 'the PUBCOMP for the incoming QoS 2');
    await client.end();
    const kinds = writes.map((w) => {
      const one = mqttPacket.parser({ protocolVersion });
      const seen: string[] = [];
      one.on('packet', (p: Packet) => seen.push(p.cmd));
      const left = one.parse(w);
      expect(left).toBe(0);
      expect(seen).toHaveLength(1);
      return seen[0];
    });
    expect(kinds).toEqual(['connect', 'subscribe', 'publish', 'publish', 'publish', 'pubrel', 'pubrec', 'pubcomp', 'disconnect']);
  });

  it('never hands out a packet id that a stored message still holds', async () => {
    const queue = new MemoryQueue();
    // Messages from "an earlier run", in flight with ids 1..3.
    for (let id = 1; id <= 3; id++) queue.markSent(queue.append({ topic: 'old', payload: Buffer.from(String(id)), qos: 1, retain: false }).seq, id);
    const broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: true });
      if (packet.cmd === 'subscribe') connection.send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted: [0] });
      if (packet.cmd === 'publish') connection.send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
    });
    cleanups.push(() => broker.close());
    const client = new MqttClient({ connect: tcp(broker.port), clientId: 'ids', clean: false, queue, reconnect: false });
    const subscribed = client.subscribe('x'); // allocated before the session is resumed
    await client.start();
    await subscribed;
    await client.publish('new', 'n', { qos: 1 });
    await until(() => queue.size === 0, 'all acked');
    await client.end();
    const packets = broker.connections[0]!.packets;
    const publishIds = packets.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => `${p.topic}:${p.messageId}:${p.dup ? 1 : 0}`);
    expect(publishIds.slice(0, 3)).toEqual(['old:1:1', 'old:2:1', 'old:3:1']);
    const subscribe = packets.find((p) => p.cmd === 'subscribe');
    expect([1, 2, 3]).not.toContain(subscribe?.messageId);
    expect(publishIds[3]).not.toMatch(/^new:[123]:/);
  });
});

describe('durable queue under the client', () => {
  it('a new process resumes the flows a dead one left on disk: same ids, DUP=1, PUBREL for released ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atbridge-clientqueue-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    // Broker 1 takes the messages, answers PUBREC for the QoS 2 one, acknowledges nothing else.
    const silent = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'publish' && packet.qos === 2) connection.send({ cmd: 'pubrec', messageId: packet.messageId ?? 0 });
    });
    cleanups.push(() => silent.close());
    const firstQueue = DurableQueue.open({ dir, fsync: 'never' });
    const first = new MqttClient({ connect: tcp(silent.port), clientId: 'dq', clean: false, queue: firstQueue, reconnect: false });
    await first.start();
    void first.publish('d/1', 'one', { qos: 1 }).catch(() => {});
    void first.publish('d/2', 'two', { qos: 2 }).catch(() => {});
    void first.publish('d/3', 'three', { qos: 1 }).catch(() => {});
    await until(() => silent.connections[0]!.packets.some((p) => p.cmd === 'pubrel'), 'the PUBREL');
    const firstIds = silent.connections[0]!.packets.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => p.messageId);
    await first.end(true); // "kill": no DISCONNECT, queue left as is
    firstQueue.close();

    const resumed: Packet[] = [];
    const broker = await fakeBroker((packet, connection) => {
      resumed.push(packet);
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: true });
      if (packet.cmd === 'publish') connection.send({ cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId ?? 0 });
      if (packet.cmd === 'pubrel') connection.send({ cmd: 'pubcomp', messageId: packet.messageId ?? 0 });
    });
    cleanups.push(() => broker.close());
    const queue = DurableQueue.open({ dir, fsync: 'never' });
    expect(queue.size).toBe(3);
    const second = new MqttClient({ connect: tcp(broker.port), clientId: 'dq', clean: false, queue, reconnect: false });
    await second.start();
    await second.publish('d/4', 'four', { qos: 1 });
    await until(() => queue.size === 0, 'the queue to drain');
    await second.end();
    queue.close();
    const flow = resumed.filter((p) => p.cmd === 'publish' || p.cmd === 'pubrel').map(summary);
    expect(flow.slice(0, 3)).toEqual([`publish dup one ${firstIds[0]}`, `pubrel ${firstIds[1]}`, `publish dup three ${firstIds[2]}`]);
    expect(flow[3]).toMatch(/^publish new four (\d+)$/);
    expect(firstIds).not.toContain(Number(flow[3]!.split(' ')[3]));
  });
});

function summary(p: Packet): string {
  if (p.cmd === 'publish') return `publish ${p.dup ? 'dup' : 'new'} ${p.payload.toString()} ${p.messageId}`;
  if (p.cmd === 'pubrel') return `pubrel ${p.messageId}`;
  if (p.cmd === 'subscribe') return `subscribe ${p.subscriptions.map((s) => s.topic).join(',')}`;
  return p.cmd;
}
