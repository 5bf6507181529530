import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, type Fault } from '../../src/emulator/index.js';
import { startTcpFront, type RunningFront } from '../../src/emulator/fronts.js';
import { eventually } from '../helpers/echo-server.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';

/**
 * The promise of the tool: QoS 1 at least once and QoS 2 exactly once, through a module that
 * reboots, loses its network, drops result codes and sees its peer close — and a publisher
 * killed with SIGKILL mid-run. The counter is mosquitto_sub on the broker side.
 */
let broker: Mosquitto;
let front: RunningFront;
let counter: ChildProcess;
const seen = new Map<string, number>();
const children = new Set<ChildProcess>();
let faultsInjected = 0;

beforeAll(async () => {
  broker = await startMosquitto();
  front = await startTcpFront('127.0.0.1', 0, { ...DEFAULT_OPTIONS, profile: 'sim7600', pacing: false });
  // stdbuf: line-buffered, so every message shows up as it arrives.
  counter = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', broker.host, '-p', String(broker.port), '-t', 'noloss/#', '-q', '2', '-v', '-i', 'noloss-counter']);
  let partial = '';
  counter.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) seen.set(line, (seen.get(line) ?? 0) + 1);
  });
  // mosquitto_sub has subscribed once the probe comes back; retained, so it comes back even
  // when the subscription lands after the publish.
  await new Promise<void>((resolve) => {
    const probe = spawn('mosquitto_pub', ['-h', broker.host, '-p', String(broker.port), '-t', 'noloss/probe', '-m', 'up', '-q', '1', '-r']);
    probe.on('close', () => resolve());
  });
  await eventually(() => seen.has('noloss/probe up'), 10_000, 'counter subscribed');
}, 30_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  counter?.kill();
  await front?.close();
  await broker?.stop();
});

function publisher(qos: 1 | 2, queue: string, lines: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    [CLI, 'pub', '--device', `tcp://${front.address}`, '--profile', 'sim7600', '--baud', '115200',
      '-h', broker.host, '-p', String(broker.port), '-t', `noloss/q${qos}`, '-q', String(qos), '-l',
      '-c', '-i', `noloss-pub-q${qos}`, '--queue', queue, '-k', '20'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  children.add(child);
  child.on('close', () => children.delete(child));
  // The last of its stderr, for a failing test's message (a publisher that gave up is not a loss).
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  stderrOf.set(child, () => stderr);
  child.stdin!.end(lines.map((l) => `${l}\n`).join(''));
  return child;
}

const stderrOf = new WeakMap<ChildProcess, () => string>();

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', (code) => resolve(code))));
}

/**
 * Injects fault n once `every` × (n + 1) more messages of the stream have arrived (and at least
 * `gapMs` after the one before), while `running()` holds; returns how many. Paced by delivery, not
 * the clock, so a faster or slower machine sees the same faults spread over the same stream.
 */
async function faultStorm(running: () => boolean, faults: Fault[], stream: { topic: string; prefix: string; total: number; every: number }, gapMs = 100): Promise<number> {
  const delivered = () => stream.total - count(stream.topic, stream.prefix, stream.total).missing;
  const start = delivered();
  let n = 0;
  while (running() && n < faults.length) {
    await new Promise((r) => setTimeout(r, n === 0 ? 25 : gapMs));
    while (running() && delivered() < start + stream.every * (n + 1)) await new Promise((r) => setTimeout(r, 25));
    if (!running()) break;
    front.module.inject(faults[n]!);
    n++;
  }
  return n;
}

function count(topic: string, prefix: string, total: number): { missing: number; duplicated: number } {
  let missing = 0;
  let duplicated = 0;
  for (let i = 0; i < total; i++) {
    const c = seen.get(`${topic} ${prefix}-${i}`) ?? 0;
    if (c === 0) missing++;
    if (c > 1) duplicated++;
  }
  return { missing, duplicated };
}

const cycle: Fault[] = [{ kind: 'reboot' }, { kind: 'peer-close' }, { kind: 'network-lost' }, { kind: 'drop-final' }];

describe('no loss under faults', () => {
  it('2,000 QoS 1 messages: at least once, through faults and a kill -9 of the publisher', async () => {
    const queue = mkdtempSync(join(tmpdir(), 'atb-q1-'));
    const lines = Array.from({ length: 2000 }, (_, i) => `a-${i}`);
    const first = publisher(1, queue, lines);
    let alive = true;
    const storm = faultStorm(() => alive, Array.from({ length: 6 }, (_, i) => cycle[i % cycle.length]!), { topic: 'noloss/q1', prefix: 'a', total: 2000, every: 150 });
    // pub -l reads stdin 1,000 unacknowledged lines ahead; once 1,200 are through, all 2,000 were
    // read and sit in the durable queue — the kill must not lose any of those.
    await eventually(() => count('noloss/q1', 'a', 2000).missing < 800, 90_000, '1,200 messages through');
    // All six faults land before the kill, however fast this machine moved the first 1,200.
    const before = await storm;
    alive = false;
    first.kill('SIGKILL');
    await exited(first);
    // The restarted publisher has nothing new on stdin: it only drains what the dead one queued.
    const second = publisher(1, queue, []);
    let secondAlive = true;
    const storm2 = faultStorm(() => secondAlive, Array.from({ length: 8 }, (_, i) => cycle[(i + 1) % cycle.length]!), { topic: 'noloss/q1', prefix: 'a', total: 2000, every: 50 });
    const code = await exited(second);
    secondAlive = false;
    const injected = before + (await storm2);
    // The restarted publisher must have drained its queue (exit 0) before anything counts as lost.
    expect(code, `second publisher: ${stderrOf.get(second)?.() ?? ''}`).toBe(0);
    await eventually(() => count('noloss/q1', 'a', 2000).missing === 0, 20_000, 'every QoS 1 message').catch(() => undefined);
    expect(count('noloss/q1', 'a', 2000).missing).toBe(0);
    faultsInjected += injected;
    expect(before).toBe(6);
  }, 180_000);

  it('500 QoS 2 messages: exactly once, through faults', async () => {
    const queue = mkdtempSync(join(tmpdir(), 'atb-q2-'));
    const child = publisher(2, queue, Array.from({ length: 500 }, (_, i) => `b-${i}`));
    let alive = true;
    child.once('close', () => (alive = false));
    const injected = await faultStorm(() => alive, Array.from({ length: 14 }, (_, i) => cycle[(i + 2) % cycle.length]!), { topic: 'noloss/q2', prefix: 'b', total: 500, every: 30 });
    const code = await exited(child);
    await eventually(() => count('noloss/q2', 'b', 500).missing === 0, 20_000, 'every QoS 2 message').catch(() => undefined);
    const { missing, duplicated } = count('noloss/q2', 'b', 500);
    expect(code, `publisher: ${stderrOf.get(child)?.() ?? ''}`).toBe(0);
    expect({ missing, duplicated }).toEqual({ missing: 0, duplicated: 0 });
    faultsInjected += injected;
    expect(injected).toBeGreaterThanOrEqual(8);
  }, 180_000);

  it('at least 20 faults were injected across both runs', () => {
    expect(faultsInjected).toBeGreaterThanOrEqual(20);
  });
});
