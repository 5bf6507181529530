/**
 * `node dist/bench/soak-broker-restore.js`: why the soak's brokers run with `max_inflight_messages 0`.
 *
 * mosquitto (2.0.11 here) with persistence, restarted with SIGTERM (it saves its database), loses
 * messages queued for a persistent subscriber beyond its in-flight window: a subscriber that has
 * not acknowledged the first 20 (the default window) gets those 20 again after the restart, and not
 * all of the rest. With QoS 1 and QoS 2 mixed (the soak's streams) it is QoS 1 messages that go;
 * with QoS 2 alone, every queued one. No client can prevent it: the broker acknowledged the
 * messages to their publisher. With no window (`max_inflight_messages 0`) nothing is queued behind
 * it and nothing is lost. This prints both, for the mosquitto on this machine.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { startMosquitto } from '../test/helpers/mosquitto.js';

interface Probe {
  socket: net.Socket;
  send(packet: Packet): void;
}

/** A raw MQTT 3.1.1 client that acknowledges only when told to. */
function rawClient(port: number, clientId: string, clean: boolean, ack: boolean, onPublish?: (payload: string) => void): Probe {
  const socket = net.connect(port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const send = (packet: Packet) => socket.write(mqttPacket.generate(packet, { protocolVersion: 4 }));
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'publish') {
      onPublish?.(Buffer.from(p.payload).toString());
      if (ack && p.qos === 1) send({ cmd: 'puback', messageId: p.messageId! });
      if (ack && p.qos === 2) send({ cmd: 'pubrec', messageId: p.messageId! });
    } else if (p.cmd === 'pubrel') {
      send({ cmd: 'pubcomp', messageId: p.messageId! });
    } else if (p.cmd === 'pubrec') {
      send({ cmd: 'pubrel', messageId: p.messageId! });
    }
  });
  socket.on('data', (d) => parser.parse(d));
  socket.on('error', () => {});
  send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 60 });
  return { socket, send };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes `n` messages (QoS 1 and 2 in turn, or QoS 2 only) to a subscriber that does not ack, restarts the broker, counts what arrives. */
export async function restoreLoss(inflight: number, n: number, mixed: boolean): Promise<{ lostQos1: number; lostQos2: number; saved: boolean }> {
  const broker = await startMosquitto({ persistence: true, extraConfig: [`max_inflight_messages ${inflight}`] });
  try {
    const qosOf = (i: number): 1 | 2 => (mixed && i % 2 === 0 ? 1 : 2);
    let sub = rawClient(broker.port, 'restore-sub', false, false);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'restore/#', qos: 2 }] });
    await wait(200);
    const pub = rawClient(broker.port, 'restore-pub', true, true);
    await wait(100);
    for (let i = 0; i < n; i++) pub.send({ cmd: 'publish', topic: 'restore/x', payload: `m${i}`, qos: qosOf(i), messageId: i + 1, retain: false, dup: false });
    await wait(500);
    sub.socket.destroy();
    pub.socket.destroy();
    await broker.restart();
    const got = new Set<string>();
    sub = rawClient(broker.port, 'restore-sub', false, true, (p) => got.add(p));
    await wait(2000);
    sub.socket.destroy();
    let lostQos1 = 0;
    let lostQos2 = 0;
    for (let i = 0; i < n; i++) if (!got.has(`m${i}`)) qosOf(i) === 1 ? lostQos1++ : lostQos2++;
    return { lostQos1, lostQos2, saved: /Saving in-memory database/.test(broker.log()) };
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const n = 80;
  for (const inflight of [20, 0]) {
    for (const mixed of [true, false]) {
      const r = await restoreLoss(inflight, n, mixed);
      process.stdout.write(`max_inflight_messages ${inflight}, ${n} messages (${mixed ? 'QoS 1 and 2 in turn' : 'QoS 2'}) queued to a persistent subscriber, SIGTERM restart (database saved: ${r.saved}): lost ${r.lostQos1} QoS 1, ${r.lostQos2} QoS 2\n`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak-broker-restore failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
