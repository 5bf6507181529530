import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttClient } from '../../src/mqtt/client.js';
import { Qos2Store } from '../../src/mqtt/qos2-store.js';
import { until } from '../bridge/support.js';
import { fakeBroker, tcp, uniqueId, type FakeConnection } from './support.js';

const RECORD = 21;

function fresh(): string {
  return join(mkdtempSync(join(tmpdir(), 'atb-qos2-')), 'remote-qos2.state');
}

describe('Qos2Store: the incoming QoS 2 state in a file', () => {
  it('gives back what an earlier run recorded: received ids not released, released ids with digest and time', () => {
    const path = fresh();
    const a = Qos2Store.open({ path, fsync: 'always' });
    a.received(1, 111);
    a.received(2, 222);
    a.released(1, 111, 5000);
    a.received(3, 333);
    a.sync();
    a.close();
    const b = Qos2Store.open({ path });
    const { received, released } = b.load();
    expect([...received]).toEqual([
      [2, 222],
      [3, 333],
    ]);
    expect([...released]).toEqual([[1, { digest: 111, at: 5000 }]]);
    // An id that carries a new message leaves the released table.
    b.received(1, 999);
    b.close();
    expect(Qos2Store.open({ path }).load().released.size).toBe(0);
  });

  it('a torn last record costs only itself; a damaged record in the middle only itself', () => {
    const path = fresh();
    const a = Qos2Store.open({ path });
    for (let id = 1; id <= 10; id++) a.received(id, id * 7);
    a.close();
    // kill -9 / power cut mid-append: half a record at the end.
    appendFileSync(path, Buffer.alloc(9, 0xab));
    // A flipped byte inside record 4 (id 4).
    const bytes = readFileSync(path);
    bytes[3 * RECORD + 5]! ^= 0x10;
    writeFileSync(path, bytes);
    const b = Qos2Store.open({ path });
    expect(b.damagedRecords).toBe(2);
    expect([...b.load().received.keys()]).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    // Rewritten on open: whole records only, so what is appended next is read back.
    expect(statSync(path).size % RECORD).toBe(0);
    b.received(11, 77);
    b.close();
    expect(Qos2Store.open({ path }).load().received.has(11)).toBe(true);
  });

  it('stays bounded: rewritten with the live entries, released ones past keepMs dropped', () => {
    const path = fresh();
    let now = 1_000_000;
    const a = Qos2Store.open({ path, keepMs: 60_000, now: () => now });
    for (let n = 0; n < 20_000; n++) {
      const id = (n % 50) + 1;
      a.received(id, n);
      a.released(id, n, now);
      now += 10;
    }
    // 40,000 records appended; 50 ids live.
    expect(statSync(path).size).toBeLessThan((4096 + 50) * RECORD);
    now += 120_000;
    a.clear(); // the broker lost the session
    a.close();
    expect(statSync(path).size).toBe(0);
    const b = Qos2Store.open({ path, keepMs: 60_000, now: () => now });
    b.released(9, 1, now - 90_000); // older than keepMs
    b.released(10, 2, now);
    b.close();
    const c = Qos2Store.open({ path, keepMs: 60_000, now: () => now });
    expect([...c.load().released.keys()]).toEqual([10]);
  });

  it('takes over the received ids of the older `+id` / `-id` file once, then removes it', () => {
    const path = fresh();
    const legacy = `${path}.legacy`;
    writeFileSync(legacy, '+5\n+6\n-5\n+7\n+8'); // a torn last line is a whole id here
    const a = Qos2Store.open({ path, legacyReceivedPath: legacy });
    expect([...a.load().received.keys()]).toEqual([6, 7, 8]);
    expect(existsSync(legacy)).toBe(false);
    a.close();
    expect([...Qos2Store.open({ path, legacyReceivedPath: legacy }).load().received.keys()]).toEqual([6, 7, 8]);
  });
});

describe('MqttClient with a Qos2Store: the QoS 2 state outlives the process', () => {
  let broker: Awaited<ReturnType<typeof fakeBroker>> | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end(true)));
    await broker?.close();
    broker = undefined;
  });

  async function answered(c: FakeConnection, cmd: Packet['cmd'], id: number, count = 1): Promise<void> {
    await until(() => c.packets.filter((p) => p.cmd === cmd && (p as { messageId?: number }).messageId === id).length >= count, `${cmd} ${id} ×${count}`);
  }

  /** A client on the store at `path` (a new one per "process"), with what it delivered. */
  async function run(path: string, clientId: string) {
    const store = Qos2Store.open({ path, fsync: 'always' });
    const client = new MqttClient({ connect: tcp(broker!.port), clientId, clean: false, reconnect: false, qos2State: store });
    clients.push(client);
    const got: string[] = [];
    const resent: number[] = [];
    client.on('message', (topic, payload, p) => got.push(`${topic} ${payload.toString()} m${p.messageId}`));
    client.on('qos2-resent-after-release', (p) => resent.push(p.messageId!));
    await client.start();
    return { client, store, got, resent, connection: broker!.connections.at(-1)! };
  }

  const publish = (c: FakeConnection, id: number, payload: string, dup: boolean) =>
    c.send({ cmd: 'publish', qos: 2, dup, retain: false, messageId: id, topic: 't/q2', payload: Buffer.from(payload) });

  /** Message 1 received (PUBREC sent, no PUBREL yet), message 2 received and released (PUBCOMP sent). */
  async function receiveOneReleaseTwo(c: FakeConnection): Promise<void> {
    publish(c, 1, 'one', false);
    await answered(c, 'pubrec', 1);
    publish(c, 2, 'two', false);
    await answered(c, 'pubrec', 2);
    c.send({ cmd: 'pubrel', messageId: 2 });
    await answered(c, 'pubcomp', 2);
  }

  it('session present: a message received before the "kill" (no PUBREL yet) and one released before it are not delivered again', async () => {
    let sessionPresent = false;
    broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent });
    });
    const path = fresh();
    const id = uniqueId('st');
    const first = await run(path, id);
    await receiveOneReleaseTwo(first.connection);
    expect(first.got).toEqual(['t/q2 one m1', 't/q2 two m2']);
    // The process dies without a word: nothing more is written by it.
    await first.client.end(true);
    first.store.close();
    sessionPresent = true;
    const second = await run(path, id);
    // A broker that never got our PUBREC resends 1; mosquitto 2.0.11 resends the released 2.
    publish(second.connection, 1, 'one', true);
    publish(second.connection, 2, 'two', true);
    await answered(second.connection, 'pubrec', 1);
    await answered(second.connection, 'pubrec', 2);
    second.connection.send({ cmd: 'pubrel', messageId: 1 });
    second.connection.send({ cmd: 'pubrel', messageId: 2 });
    await answered(second.connection, 'pubcomp', 2);
    expect(second.got).toEqual([]);
    expect(second.resent).toEqual([2]);
  });

  it('session gone (CONNACK without session present): the file means nothing, the same bytes are new messages', async () => {
    broker = await fakeBroker((packet, connection) => {
      if (packet.cmd === 'connect') connection.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    });
    const path = fresh();
    const id = uniqueId('st');
    const first = await run(path, id);
    await receiveOneReleaseTwo(first.connection);
    await first.client.end(true);
    first.store.close();
    const second = await run(path, id);
    expect(second.store.receivedCount + second.store.releasedCount).toBe(0);
    publish(second.connection, 1, 'one', true);
    publish(second.connection, 2, 'two', true);
    await answered(second.connection, 'pubrec', 2);
    expect(second.got).toEqual(['t/q2 one m1', 't/q2 two m2']);
    expect(second.resent).toEqual([]);
  });
});
