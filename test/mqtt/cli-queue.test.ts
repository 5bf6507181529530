import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DurableQueue } from '../../src/mqtt/durable-queue.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, CLI, cliBuilt, killAll, start } from './cli-support.js';
import { uniqueId, until } from './support.js';

let broker: Mosquitto;
let queueDir: string;

beforeAll(async () => {
  broker = await startMosquitto({ persistence: false });
  queueDir = mkdtempSync(join(tmpdir(), 'atbridge-pubqueue-'));
});
afterAll(async () => {
  killAll();
  broker.signal('SIGCONT');
  await broker.stop();
  rmSync(queueDir, { recursive: true, force: true });
});

const TOTAL = 600;
const line = (i: number) => `msg-${String(i).padStart(4, '0')}`;
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => `${line(from + k)}\n`).join('');

it.runIf(cliBuilt())('every QoS 1 message queued by `pub -l --queue` arrives although the publisher is killed -9 mid-stream', async () => {
  const topic = `queue/${uniqueId()}`;
  // MQTT.js on the other side: an independent implementation counts what arrived.
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: uniqueId('counter'), clean: true });
  const seen = new Set<string>();
  subscriber.on('message', (_t, payload) => seen.add(payload.toString()));
  await subscriber.subscribeAsync(topic, { qos: 1 });
  try {
    const args = ['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-l', '-q', '1', '--queue', queueDir, '-d', '-i', uniqueId('qpub')];
    const queuedCount = (out: string) => out.split('\n').filter((l) => l.includes(' queued PUBLISH')).length;

    // Run 1: stream half the lines, freeze the broker so acknowledgements stop, queue more, kill -9.
    const first = start(process.execPath, [CLI, ...args]);
    first.child.stdin?.write(lines(1, 200));
    await until(() => seen.size >= 50, 'the stream to flow');
    broker.signal('SIGSTOP');
    first.child.stdin?.write(lines(201, 400));
    await until(() => queuedCount(first.stdout()) === 400, `400 lines queued (${first.stderr()})`);
    first.child.kill('SIGKILL');
    await first.exited;
    broker.signal('SIGCONT');

    // What the killed publisher left on disk: messages the frozen broker never acknowledged.
    const left = DurableQueue.open({ dir: queueDir });
    const stranded = left.size;
    left.close();
    expect(stranded).toBeGreaterThan(0);

    // Run 2: same queue, the rest of the input; it resends the stranded ones first.
    const second = await atbridge(args, { stdin: lines(401, TOTAL), timeoutMs: 20_000 });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/resending \d+ message\(s\) left in/);
    await until(() => seen.size === TOTAL, `all ${TOTAL} distinct messages (have ${seen.size})`);
    const missing = Array.from({ length: TOTAL }, (_, k) => line(k + 1)).filter((m) => !seen.has(m));
    expect(missing).toEqual([]);
    const after = DurableQueue.open({ dir: queueDir });
    expect(after.size).toBe(0);
    after.close();
  } finally {
    await subscriber.endAsync();
  }
});

it.runIf(cliBuilt())('`pub -m --queue` with the broker away: the message is on disk at once, the reason is said, and the next run delivers it', async () => {
  const topic = `queue/${uniqueId()}`;
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-pubqueue-away-'));
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: uniqueId('counter'), clean: true });
  const seen: string[] = [];
  subscriber.on('message', (_t, payload) => seen.push(payload.toString()));
  await subscriber.subscribeAsync(topic, { qos: 1 });
  try {
    // Nothing listens on this port: the publisher keeps retrying, with the message already stored.
    const away = await freePort();
    const first = start(process.execPath, [CLI, 'pub', '-h', '127.0.0.1', '-p', String(away), '-t', topic, '-m', 'written-while-away', '-q', '1', '--queue', dir]);
    await until(() => /reconnecting in .* \(connection refused/i.test(first.stderr()), `a reconnect line with its reason (${first.stderr()})`);
    first.child.kill('SIGKILL');
    await first.exited;
    const stored = DurableQueue.open({ dir });
    expect(stored.size).toBe(1);
    stored.close();

    const second = await atbridge(['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-m', 'second', '-q', '1', '--queue', dir], { timeoutMs: 15_000 });
    expect(second.code, second.stderr).toBe(0);
    await until(() => seen.length === 2, `both messages (have ${seen.join(',')})`);
    expect(seen).toEqual(['written-while-away', 'second']);
  } finally {
    await subscriber.endAsync();
    rmSync(dir, { recursive: true, force: true });
  }
});
