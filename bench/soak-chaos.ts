/**
 * `npm run soak [-- --faults 18 | --seconds 150, --every 1.8 --families all|sim7600,esp-at --faults N --rate 10 --busy N --broker-inflight 0 --connect-timeout S --out FILE]`:
 * the chaos soak of issue 21.
 *
 * For each emulated family: two mosquittos with persistence (the remote over TLS), the bridge as
 * its own process (the built CLI) reaching the module of `atbridge emulate --listen … --control
 * PATH` (its own process too) over raw TCP, as ser2net serves one, and a steady load — QoS 1 and
 * QoS 2 out, QoS 1 and QoS 2 in. Faults come round-robin, one every few seconds: module power loss,
 * bridge `kill -9` (restarted on the same queue_dir), a broker restart (local or remote, SIGTERM:
 * mosquitto saves its persistence), the line unplugged for a second, a live emulator fault (peer
 * close, network lost, a dropped final, busy), and a burst of line corruption (carried safely by
 * TLS); the module's faults are sent with `atbridge emulate-ctl PATH FAULT`, as documented. At
 * the end the faults stop, the queues drain, and it counts per direction and QoS: lost, corrupted
 * (arrived but never sent), duplicated; bridge crashes (an exit not caused by our kill); the
 * longest stall (no delivery while load was on). A second subscriber on each destination broker
 * (the witness) tells where a lost message went missing: one the witness has was published into
 * the destination broker (the bridge's part was done) and is counted apart as the broker's.
 * Prints a table and writes bench/soak.json. Exit status 1 when a goal is missed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QoS } from 'mqtt-packet';
import { DEFAULT_OPTIONS, dialectIds, getDialect } from '../src/emulator/index.js';
import { profileOf } from '../src/emulator/dialects.js';
import { getProfile } from '../src/profile/index.js';
import { MqttClient } from '../src/mqtt/client.js';
import { startSoakBroker, type SoakBroker } from './soak-broker.js';
import { startSoakEmulator } from './soak-emulator.js';
import { startMqttTap } from './soak-tap.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The built CLI: beside this file when it runs from dist/, else dist/ of the checkout (vitest runs the source). */
const CLI = process.env.ATBRIDGE_CLI ?? (here.endsWith(join('dist', 'bench')) ? join(here, '..', 'src', 'cli.js') : join(here, '..', 'dist', 'src', 'cli.js'));
const RESULTS = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..', 'bench') : here;

export interface SoakOptions {
  /** Emulated families (dialect ids: sim7600, esp-at, sim800, …). */
  families: string[];
  /** Seconds of faults per family. */
  seconds: number;
  /** Seconds from one fault's recovery (every stream delivering again) to the next fault. */
  everySeconds: number;
  /** Longest wait for every stream to deliver again after a fault clears, seconds (default 30); longer is a stall. */
  resumeWaitSeconds?: number;
  /** Families run at once by runSoak (default 1). */
  parallel?: number;
  /** Stop after this many faults instead of after `seconds` (the short variant: one of each kind). */
  faultCount?: number;
  /** Messages per second, per stream (4 streams). */
  rate: number;
  /** restart_timeout of the bridge, seconds. */
  restart: [number, number];
  /** The brokers' max_inflight_messages (default 0: see soak-broker.ts for why). */
  brokerInflight?: number;
  /** Longest wait for the queues to drain once the faults stop, seconds (default 90). */
  drainSeconds?: number;
  /**
   * A real loss, to prove the counting finds one: at the first kill -9, while the bridge is down,
   * publish this many QoS 1 messages out (the local broker acknowledges them), then wipe the
   * bridge's persistent session on the local broker (a clean connect with its client id), so they
   * are acknowledged and never delivered.
   */
  injectLoss?: number;
  /**
   * A loss that is the broker's, to prove the witness tells it apart: at the first fault, the
   * remote's counting subscriber goes away for this many ms with its session wiped, so what the
   * bridge publishes meanwhile reaches the remote broker (the witness has it) and never the counter.
   */
  injectBrokerLoss?: number;
  /** The bridge's --connect-timeout, seconds (default: the bridge's own, half the keepalive: 5 s here). */
  connectTimeout?: number;
  log?: (line: string) => void;
}

export type FaultKind = 'power-loss' | 'kill-9' | 'broker-restart' | 'unplug' | 'emulator-fault' | 'corruption';
export const FAULT_KINDS: FaultKind[] = ['power-loss', 'kill-9', 'broker-restart', 'unplug', 'emulator-fault', 'corruption'];
/** The live emulator faults, in turn, as `atbridge emulate-ctl PATH …` takes them. */
const LIVE_FAULTS = ['peer-close', 'network-lost', 'drop-final:1', 'busy:1500'];

interface StreamCounts {
  sent: number;
  /** Accepted by the source broker, never seen at the destination broker: the bridge's loss. */
  lost: number;
  /**
   * Published into the destination broker (its witness subscriber has it) but never delivered to
   * the counting subscriber: lost by the broker or the subscriber, not by the bridge.
   */
  brokerLost: number;
  corrupted: number;
  duplicated: number;
}

export interface FamilyResult {
  family: string;
  faults: Record<FaultKind, number>;
  streams: Record<string, StreamCounts>;
  crashes: number;
  crashLines: string[];
  /** A few of the messages lost, per stream (to find the fault that lost them). */
  lostSamples: string[];
  /** Every QoS 2 message that arrived more than once, placed among the faults. */
  qos2DuplicateSamples: string[];
  /**
   * QoS 2 messages a broker sent the bridge again after releasing them (mosquitto 2.0.11 at a
   * restart), which the bridge answered and did not forward twice (its log says each one).
   */
  qos2ResentSuppressed: { in: number; out: number };
  /** The longest time with load on and no arrival on any stream (a fault's own duration included). */
  maxStallSeconds: number;
  /**
   * The longest stall after each kind of fault: from the moment the fault cleared (the module
   * rebooted, the bridge restarted, the broker back, the line plugged in again, the corruption or
   * busy time over) to the moment every stream had delivered again.
   */
  stallByKind: Record<FaultKind, number>;
  /** The same per fault as applied (`broker-restart remote`, `emulator-fault drop-final:1`, …). */
  stallByFault: Record<string, number>;
  /** The longest stall after a fault cleared, and the fault. */
  maxResumeSeconds: number;
  /** Every fault as applied with its stall from its clearing, in order (for medians). */
  recoveries: { at: number; what: string; seconds: number }[];
  /** The slowest recoveries, placed among the faults (`12.3 s power-loss: resumed 3.4 s after it cleared (inQ2 last)`). */
  slowest: string[];
  /** Faults after which some stream had not delivered within resumeWaitSeconds. */
  unresumed: string[];
  drainSeconds: number;
  /** Everything accepted had arrived when counting (false: the drain wait ran out). */
  drained: boolean;
  /** The faults in order, with their start since the load began. */
  timeline: string[];
  /** When it did not drain: the last lines each broker logged. */
  brokerLogs?: { local: string; remote: string };
  /** `atbridge emulate-ctl` requests that failed (refused, or no answer). */
  faultErrors: string[];
  /** The emulator process ending by itself (it must not). */
  emulatorExits: string[];
}

export interface SoakResult {
  families: FamilyResult[];
  faults: Record<FaultKind, number>;
  totals: { lost: number; brokerLost: number; corrupted: number; qos2Duplicated: number; qos1Duplicated: number; qos2ResentSuppressed: number; crashes: number; maxStallSeconds: number; maxResumeSeconds: number; unresumed: number; faultErrors: number };
  /** The stall from each fault's clearing over all families: per kind, and per fault as applied. */
  stalls: { byKind: Record<string, StallFigures>; byFault: Record<string, StallFigures> };
  capSeconds: number;
}

/** How many faults, and the median and longest stall after them, seconds. */
export interface StallFigures {
  n: number;
  median: number;
  max: number;
  /** Faults whose stall was longer than the backoff cap. */
  overCap: number;
}

export function stallFigures(seconds: number[], capSeconds: number): StallFigures {
  const sorted = [...seconds].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, median: Math.round(median * 10) / 10, max: sorted.at(-1) ?? 0, overCap: sorted.filter((s) => s > capSeconds).length };
}

/** One stream of messages: a publisher on one broker, a counter on the other. */
class Stream {
  readonly sent = new Set<string>();
  readonly seen = new Map<string, number>();
  /** What the destination broker's second subscriber (the witness) got. */
  readonly witnessed = new Set<string>();
  /** When each accepted message was sent (ms since the soak's start), to place a loss among the faults. */
  readonly sentAt = new Map<string, number>();
  lastArrival = Date.now();
  /** A warm-up message arrived: the bridge's subscriptions for this stream are in place. */
  warmedUp = false;
  /** When a fault cleared (ms, Date.now()), and the first arrival at or after it. */
  private clearedAt: number | undefined;
  resumedAt: number | undefined;
  private n = 0;
  constructor(
    readonly name: string,
    readonly topic: string,
    readonly qos: QoS,
  ) {}
  next(): { topic: string; payload: string } {
    return { topic: this.topic, payload: `${this.name}-${this.n++}` };
  }
  /** The source broker took it (PUBACK / PUBCOMP): from here on it must arrive. */
  accepted(payload: string, at: number): void {
    this.sent.add(`${this.topic} ${payload}`);
    this.sentAt.set(`${this.topic} ${payload}`, at);
  }
  /** A fault cleared now: the next arrival is this stream's resumption. */
  markCleared(at: number): void {
    this.clearedAt = at;
    this.resumedAt = undefined;
  }
  arrived(topic: string, payload: Buffer): void {
    this.lastArrival = Date.now();
    if (this.clearedAt !== undefined && this.resumedAt === undefined && this.lastArrival >= this.clearedAt) this.resumedAt = this.lastArrival;
    if (payload.toString('latin1').startsWith('warm-')) {
      this.warmedUp = true;
      return;
    }
    const key = `${topic} ${payload.toString('latin1')}`;
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    this.lastArrival = Date.now();
  }
  witness(topic: string, payload: Buffer): void {
    if (!payload.toString('latin1').startsWith('warm-')) this.witnessed.add(`${topic} ${payload.toString('latin1')}`);
  }
  duplicatedKeys(): string[] {
    return [...this.seen].filter(([k, n]) => n > 1 && this.sent.has(k)).map(([k, n]) => `${k} ×${n}`);
  }
  missingKeys(): string[] {
    return [...this.sent].filter((k) => !this.seen.has(k));
  }
  missing(): number {
    let n = 0;
    for (const key of this.sent) if (!this.seen.has(key)) n++;
    return n;
  }
  /** Missing at the counting subscriber and never published into the destination broker either. */
  unwitnessed(): number {
    let n = 0;
    for (const key of this.sent) if (!this.seen.has(key) && !this.witnessed.has(key)) n++;
    return n;
  }
  counts(): StreamCounts {
    let duplicated = 0;
    let corrupted = 0;
    for (const [key, n] of this.seen) {
      if (!this.sent.has(key)) corrupted++;
      else if (n > 1) duplicated += n - 1;
    }
    const unwitnessed = this.unwitnessed();
    return { sent: this.sent.size, lost: unwitnessed, brokerLost: this.missing() - unwitnessed, corrupted, duplicated };
  }
}

function client(broker: SoakBroker, id: string): MqttClient {
  return new MqttClient({ connect: broker.connect, clientId: id, clean: false, keepalive: 10, reconnect: { baseMs: 50, capMs: 300, retryInitial: true } });
}

export async function runFamily(family: string, options: SoakOptions): Promise<FamilyResult> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), `atbridge-soak-${family}-`));
  const local = await startSoakBroker(join(dir, 'local'), false, options.brokerInflight ?? 0);
  const remote = await startSoakBroker(join(dir, 'remote'), true, options.brokerInflight ?? 0);
  const emulator = await startSoakEmulator({ cli: CLI, family, dir });
  /** Faults the emulator refused or did not answer (each one line). */
  const faultErrors: string[] = [];
  const ctl = async (request: string) => {
    try {
      await emulator.ctl(request);
    } catch (err) {
      faultErrors.push(err instanceof Error ? err.message : String(err));
      log(`${family}: ${faultErrors[faultErrors.length - 1]}`);
    }
  };

  const streams = {
    outQ1: new Stream('o1', 'soak/up/q1', 1),
    outQ2: new Stream('o2', 'soak/up/q2', 2),
    inQ1: new Stream('i1', 'soak/down/q1', 1),
    inQ2: new Stream('i2', 'soak/down/q2', 2),
  };
  let atRemote = client(remote, `soak-watch-remote-${family}`);
  const atLocal = client(local, `soak-watch-local-${family}`);
  const witnessRemote = client(remote, `soak-witness-remote-${family}`);
  const witnessLocal = client(local, `soak-witness-local-${family}`);
  const localPub = client(local, `soak-pub-local-${family}`);
  const remotePub = client(remote, `soak-pub-remote-${family}`);
  const countUp = (c: MqttClient) => c.on('message', (topic, payload) => (topic.endsWith('q1') ? streams.outQ1 : streams.outQ2).arrived(topic, payload));
  countUp(atRemote);
  atLocal.on('message', (topic, payload) => (topic.endsWith('q1') ? streams.inQ1 : streams.inQ2).arrived(topic, payload));
  witnessRemote.on('message', (topic, payload) => (topic.endsWith('q1') ? streams.outQ1 : streams.outQ2).witness(topic, payload));
  witnessLocal.on('message', (topic, payload) => (topic.endsWith('q1') ? streams.inQ1 : streams.inQ2).witness(topic, payload));
  const clients = [atRemote, atLocal, witnessRemote, witnessLocal, localPub, remotePub];
  for (const c of clients) c.on('error', () => undefined);
  await Promise.all(clients.map((c) => c.start()));
  await Promise.all([atRemote.subscribe(['soak/up/#'], { qos: 2 }), witnessRemote.subscribe(['soak/up/#'], { qos: 2 })]);
  await Promise.all([atLocal.subscribe(['soak/down/#'], { qos: 2 }), witnessLocal.subscribe(['soak/down/#'], { qos: 2 })]);
  const cellular = getProfile(profileOf(getDialect(family))).family !== 'wifi';

  const tap = process.env.SOAK_LOCAL_TAP ? await startMqttTap(local.port, join(dir, 'local-tap.log')) : undefined;
  const queueDir = join(dir, 'queue');
  const args = [
    CLI, 'bridge', '--connection', `soak-${family}`, '--local', `mqtt://127.0.0.1:${tap?.port ?? local.port}`,
    '--remote', `mqtts://localhost:${remote.tlsPort}`, '--bridge-cafile', remote.caFile,
    '--device', `tcp://${emulator.address}`, '--profile', profileOf(getDialect(family)), '--baud', '115200',
    '--queue-dir', queueDir, '--queue-fsync', 'interval', '--restart-timeout', options.restart.join(' '), '--keepalive-interval', '10',
    '--topic', 'soak/up/# out 2', '--topic', 'soak/down/# in 2', '--status-interval', '0',
    ...(options.connectTimeout !== undefined ? ['--connect-timeout', String(options.connectTimeout)] : []),
    ...(process.env.SOAK_TRACE ? ['--trace', `${process.env.SOAK_TRACE}-${family}.jsonl`] : []),
    // What a user gives: the APN (SIM800 and SIM7000 need it before AT+CIICR), the access point.
    ...(cellular ? ['--apn', 'internet'] : ['--wifi-ssid', DEFAULT_OPTIONS.accessPoints[0]!.ssid, '--wifi-password', DEFAULT_OPTIONS.accessPoints[0]!.password]),
  ];
  /** Every bridge process's log, in turn (kept with SOAK_KEEP=1: the drops and reconnects it said). */
  const bridgeLog = createWriteStream(join(dir, 'bridge.log'), { flags: 'a' });
  let starts = 0;
  let bridge: ChildProcess | undefined;
  let crashes = 0;
  const crashLines: string[] = [];
  let killing = false;
  const startBridge = () => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    bridgeLog.write(`--- bridge start ${++starts} at ${new Date().toISOString()}\n`);
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
      bridgeLog.write(d);
    });
    child.once('exit', (code, signal) => {
      if (bridge === child) bridge = undefined;
      if (killing || signal === 'SIGKILL' || signal === 'SIGTERM') return;
      crashes++;
      crashLines.push(`exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      log(`${family}: the bridge exited by itself (${code ?? signal}); restarting`);
      startBridge();
    });
    bridge = child;
  };
  startBridge();

  // Warm-up (not counted): until a message of every stream has crossed, the bridge's
  // subscriptions may not exist yet, and a broker keeps nothing for a subscription it never had.
  const all = [[streams.outQ1, localPub], [streams.outQ2, localPub], [streams.inQ1, remotePub], [streams.inQ2, remotePub]] as const;
  const warmStart = Date.now();
  for (let w = 0; all.some(([s]) => !s.warmedUp) && Date.now() - warmStart < 60_000; w++) {
    for (const [s, pub] of all) if (!s.warmedUp) void pub.publish(s.topic, `warm-${w}`, { qos: s.qos }).catch(() => undefined);
    await sleep(250);
  }

  // Load: each stream publishes `rate` messages a second.
  const t0 = Date.now();
  /** Each fault with its start (ms since t0), for the lost samples. */
  const timeline: { at: number; kind: FaultKind }[] = [];
  const placed = (s: Stream, key: string, where = true): string => {
    const at = s.sentAt.get(key) ?? 0;
    const before = timeline.filter((f) => f.at <= at).pop();
    const whereText = s.witnessed.has(key) ? 'in the destination broker (its witness has it), not delivered to the counter' : 'never in the destination broker';
    const when = `sent at ${(at / 1000).toFixed(1)} s${before ? `, ${((at - before.at) / 1000).toFixed(1)} s after ${before.kind}` : ''}`;
    return where ? `${key} (${when}; ${whereText})` : `${key} (${when})`;
  };
  let loadOn = true;
  const pubs: Promise<unknown>[] = [];
  const loadTimer = setInterval(() => {
    if (!loadOn) return;
    for (const [s, pub] of [[streams.outQ1, localPub], [streams.outQ2, localPub], [streams.inQ1, remotePub], [streams.inQ2, remotePub]] as const) {
      const { topic, payload } = s.next();
      const at = Date.now() - t0;
      pubs.push(pub.publish(topic, payload, { qos: s.qos }).then(() => s.accepted(payload, at), () => undefined));
    }
  }, 1000 / options.rate);

  // The longest time with load on and no arrival on any stream (a fault's own time included).
  let maxStall = 0;
  const stallTimer = setInterval(() => {
    const last = Math.max(...Object.values(streams).map((s) => s.lastArrival));
    maxStall = Math.max(maxStall, (Date.now() - last) / 1000);
  }, 100);
  // The stall that counts: from a fault's clearing to every stream delivering again.
  const stallByKind: Record<FaultKind, number> = { 'power-loss': 0, 'kill-9': 0, 'broker-restart': 0, unplug: 0, 'emulator-fault': 0, corruption: 0 };
  const stallByFault: Record<string, number> = {};
  const recoveries: { at: number; what: string; seconds: number; last: string }[] = [];
  const unresumed: string[] = [];
  const resumeWaitMs = (options.resumeWaitSeconds ?? 30) * 1000;

  for (const s of Object.values(streams)) s.lastArrival = Date.now();
  maxStall = 0;

  const injectLoss = async (n: number) => {
    if (bridge) await new Promise((r) => bridge!.once('exit', r));
    const sent: Promise<unknown>[] = [];
    for (let k = 0; k < n; k++) {
      const { topic, payload } = streams.outQ1.next();
      const at = Date.now() - t0;
      sent.push(localPub.publish(topic, payload, { qos: 1 }).then(() => streams.outQ1.accepted(payload, at), () => undefined));
    }
    await Promise.all(sent);
    const wipe = new MqttClient({ connect: local.connect, protocolVersion: 5, clientId: `atbridge-local-soak-${family}`, clean: true, keepalive: 10, reconnect: { baseMs: 50, capMs: 300, retryInitial: true } });
    wipe.on('error', () => undefined);
    await wipe.start();
    await wipe.end();
    log(`${family}: injected a loss of ${n} acknowledged QoS 1 messages out`);
  };

  const injectBrokerLoss = async (ms: number) => {
    const id = `soak-watch-remote-${family}`;
    await atRemote.end(true);
    const wipe = new MqttClient({ connect: remote.connect, clientId: id, clean: true, keepalive: 10, reconnect: { baseMs: 50, capMs: 300, retryInitial: true } });
    wipe.on('error', () => undefined);
    await wipe.start();
    await wipe.end();
    await sleep(ms);
    const again = client(remote, id);
    again.on('error', () => undefined);
    countUp(again);
    await again.start();
    await again.subscribe(['soak/up/#'], { qos: 2 });
    clients[clients.indexOf(atRemote)] = again;
    atRemote = again;
    log(`${family}: the remote's counting subscriber was away ${ms} ms with its session wiped (a broker-side loss)`);
  };

  const faults: Record<FaultKind, number> = { 'power-loss': 0, 'kill-9': 0, 'broker-restart': 0, unplug: 0, 'emulator-fault': 0, corruption: 0 };
  const end = Date.now() + options.seconds * 1000;
  let i = 0;
  while (options.faultCount !== undefined ? i < options.faultCount : Date.now() < end) {
    const kind = FAULT_KINDS[i % FAULT_KINDS.length]!;
    faults[kind]++;
    const startedAt = Date.now();
    timeline.push({ at: startedAt - t0, kind });
    if (options.injectBrokerLoss && i === 0) await injectBrokerLoss(options.injectBrokerLoss);
    /** The fault as applied, for the per-fault stalls. */
    let what: string = kind;
    switch (kind) {
      case 'power-loss':
        await ctl('reboot');
        break;
      case 'kill-9':
        bridge?.kill('SIGKILL');
        await sleep(200);
        if (options.injectLoss && faults[kind] === 1) await injectLoss(options.injectLoss);
        startBridge();
        break;
      case 'broker-restart': {
        const which = faults[kind] % 2 === 0 ? 'local' : 'remote';
        what = `${kind} ${which}`;
        await (which === 'local' ? local : remote).restart();
        break;
      }
      case 'unplug':
        // The TCP line drops and new connections are closed at once for 1 s.
        await ctl('unplug:1000');
        await sleep(1000);
        break;
      case 'emulator-fault': {
        // In turn, each family starting one further on: 3 live faults per family (18 faults) still
        // give every one of the four to the soak (before, peer-close came only as a family's 4th).
        const fault = LIVE_FAULTS[(faults[kind] - 1 + Math.max(0, options.families.indexOf(family))) % LIVE_FAULTS.length]!;
        what = `${kind} ${fault}`;
        await ctl(fault);
        // busy:MS lasts MS: it clears then.
        const busy = /^busy:(\d+)$/.exec(fault);
        if (busy) await sleep(Number(busy[1]));
        break;
      }
      case 'corruption':
        await ctl('corrupt:0.0005');
        await sleep(2000);
        await ctl('corrupt:0');
        break;
    }
    // The fault is over: from now, every stream must deliver again.
    const clearedAt = Date.now();
    for (const s of Object.values(streams)) s.markCleared(clearedAt);
    while (Object.values(streams).some((s) => s.resumedAt === undefined) && Date.now() - clearedAt < resumeWaitMs) await sleep(20);
    const late = Object.values(streams).filter((s) => s.resumedAt === undefined);
    const lastToResume = late[0] ?? Object.values(streams).reduce((a, b) => (b.resumedAt! > a.resumedAt! ? b : a));
    const seconds = Math.round(((late.length > 0 ? Date.now() : lastToResume.resumedAt!) - clearedAt) / 100) / 10;
    if (late.length > 0) unresumed.push(`${((startedAt - t0) / 1000).toFixed(1)} s ${what}: ${late.map((s) => s.name).join(', ')} not delivering ${seconds} s after it cleared`);
    stallByKind[kind] = Math.max(stallByKind[kind], seconds);
    stallByFault[what] = Math.max(stallByFault[what] ?? 0, seconds);
    recoveries.push({ at: startedAt - t0, what, seconds, last: lastToResume.name });
    i++;
    log(`${family}: fault ${i} ${what} (${((clearedAt - startedAt) / 1000).toFixed(1)} s), delivering again ${seconds} s after; ${Object.values(streams).map((s) => `${s.name} ${s.seen.size}/${s.sent.size}`).join(', ')}`);
    await sleep(options.everySeconds * 1000);
  }
  // Faults over: load stops, then the queues drain.
  loadOn = false;
  clearInterval(loadTimer);
  clearInterval(stallTimer);
  await Promise.race([Promise.all(pubs), sleep(30_000)]);
  const drainStart = Date.now();
  // Until everything arrived; or, once 10 s passed, until what is missing is only what the
  // destination broker had and did not deliver (it never will).
  const drainMs = (options.drainSeconds ?? 90) * 1000;
  const waiting = () => Object.values(streams).some((s) => (Date.now() - drainStart < 10_000 ? s.missing() : s.unwitnessed()) > 0);
  while (waiting() && Date.now() - drainStart < drainMs) await sleep(200);
  const drainSeconds = (Date.now() - drainStart) / 1000;
  await sleep(1000); // a late duplicate would show now

  const result: FamilyResult = {
    family,
    faults,
    streams: Object.fromEntries(Object.entries(streams).map(([k, s]) => [k, s.counts()])),
    crashes,
    crashLines,
    // Per stream, up to 5 of the bridge's losses and up to 5 of the broker's.
    lostSamples: Object.values(streams).flatMap((s) => [
      ...s.missingKeys().filter((k) => !s.witnessed.has(k)).slice(0, 5),
      ...s.missingKeys().filter((k) => s.witnessed.has(k)).slice(0, 5),
    ].map((k) => placed(s, k))),
    qos2DuplicateSamples: [streams.outQ2, streams.inQ2].flatMap((s) => s.duplicatedKeys().map((k) => `${placed(s, k.replace(/ ×\d+$/, ''), false)}${k.slice(k.lastIndexOf(' '))}`)),
    qos2ResentSuppressed: { in: 0, out: 0 },
    drained: Object.values(streams).every((s) => s.missing() === 0),
    timeline: timeline.map((f) => `${(f.at / 1000).toFixed(1)} s ${f.kind}`),
    ...(Object.values(streams).every((s) => s.missing() === 0) ? {} : { brokerLogs: { local: local.log().slice(-6000), remote: remote.log().slice(-6000) } }),
    maxStallSeconds: Math.round(maxStall * 10) / 10,
    stallByKind,
    stallByFault,
    maxResumeSeconds: Math.max(0, ...recoveries.map((r) => r.seconds)),
    recoveries: recoveries.map(({ at, what, seconds }) => ({ at: Math.round(at / 100) / 10, what, seconds })),
    slowest: [...recoveries]
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 5)
      .map((r) => `${(r.at / 1000).toFixed(1)} s ${r.what}: delivering again ${r.seconds} s after it cleared (${r.last} last)`),
    unresumed,
    drainSeconds: Math.round(drainSeconds * 10) / 10,
    faultErrors,
    emulatorExits: [...emulator.exits],
  };
  killing = true;
  bridge?.kill('SIGTERM');
  if (bridge) await new Promise((r) => bridge!.once('exit', r));
  await Promise.all(clients.map((c) => c.end(true).catch(() => undefined)));
  await emulator.stop();
  await tap?.close();
  await new Promise((r) => bridgeLog.end(r));
  for (const line of readFileSync(join(dir, 'bridge.log'), 'utf8').split('\n')) {
    if (!/again after releasing it/.test(line)) continue;
    if (/\bremote: /.test(line)) result.qos2ResentSuppressed.in++;
    else result.qos2ResentSuppressed.out++;
  }
  if (process.env.SOAK_KEEP) {
    writeFileSync(join(dir, 'local-broker.log'), local.log());
    writeFileSync(join(dir, 'remote-broker.log'), remote.log());
    writeFileSync(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'lost.txt'), Object.values(streams).flatMap((s) => s.missingKeys().map((k) => `${placed(s, k)}\n`)).join(''));
  }
  await local.stop();
  await remote.stop();
  if (process.env.SOAK_KEEP) log(`${family}: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return result;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  // `parallel` families at a time, each with its own brokers, emulator and bridge; results in the given order.
  const families: FamilyResult[] = new Array(options.families.length);
  let next = 0;
  const worker = async () => {
    while (next < options.families.length) {
      const k = next++;
      families[k] = await runFamily(options.families[k]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel ?? 1, options.families.length)) }, worker));
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, families.reduce((n, f) => n + f.faults[k], 0)])) as Record<FaultKind, number>;
  const recoveries = families.flatMap((f) => f.recoveries);
  const all = families.flatMap((f) => Object.entries(f.streams));
  return {
    families,
    faults,
    totals: {
      lost: all.reduce((n, [, s]) => n + s.lost, 0),
      brokerLost: all.reduce((n, [, s]) => n + s.brokerLost, 0),
      corrupted: all.reduce((n, [, s]) => n + s.corrupted, 0),
      qos2Duplicated: all.filter(([k]) => k.endsWith('Q2')).reduce((n, [, s]) => n + s.duplicated, 0),
      qos1Duplicated: all.filter(([k]) => k.endsWith('Q1')).reduce((n, [, s]) => n + s.duplicated, 0),
      qos2ResentSuppressed: families.reduce((n, f) => n + f.qos2ResentSuppressed.in + f.qos2ResentSuppressed.out, 0),
      crashes: families.reduce((n, f) => n + f.crashes, 0),
      maxStallSeconds: Math.max(...families.map((f) => f.maxStallSeconds)),
      maxResumeSeconds: Math.max(...families.map((f) => f.maxResumeSeconds)),
      unresumed: families.reduce((n, f) => n + f.unresumed.length, 0),
      faultErrors: families.reduce((n, f) => n + f.faultErrors.length + f.emulatorExits.length, 0),
    },
    stalls: {
      byKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, stallFigures(recoveries.filter((r) => r.what.split(' ')[0] === k).map((r) => r.seconds), options.restart[1])])),
      byFault: Object.fromEntries([...new Set(recoveries.map((r) => r.what))].sort().map((w) => [w, stallFigures(recoveries.filter((r) => r.what === w).map((r) => r.seconds), options.restart[1])])),
    },
    capSeconds: options.restart[1],
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const started = Date.now();
  const options: SoakOptions = {
    // Every emulated family by default, 18 faults each (3 of each kind: 24 of each kind in all), one
    // every 1.8 s. Longer per family: --families sim7600,esp-at --seconds 150 (time instead of a count).
    families: (arg('families') ?? 'all') === 'all' ? dialectIds() : arg('families')!.split(','),
    seconds: Number(arg('seconds') ?? 0),
    everySeconds: Number(arg('every') ?? 0.5),
    parallel: Number(arg('parallel') ?? 2),
    ...(arg('resume-wait') !== undefined ? { resumeWaitSeconds: Number(arg('resume-wait')) } : {}),
    rate: Number(arg('rate') ?? 10),
    ...(arg('faults') !== undefined ? { faultCount: Number(arg('faults')) } : arg('seconds') === undefined ? { faultCount: 18 } : {}),
    ...(arg('broker-inflight') !== undefined ? { brokerInflight: Number(arg('broker-inflight')) } : {}),
    ...(arg('connect-timeout') !== undefined ? { connectTimeout: Number(arg('connect-timeout')) } : {}),
    restart: [0.2, 2],
    log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
  };
  // --busy N: N busy loops beside the soak, to run it on a loaded machine (as a Pi doing other work).
  const busy = Array.from({ length: Number(arg('busy') ?? 0) }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const result = await runSoak(options).finally(() => {
    for (const b of busy) b.kill('SIGKILL');
  });
  const rows = result.families.flatMap((f) =>
    Object.entries(f.streams).map(([k, s]) => `${f.family.padEnd(11)} ${k.padEnd(6)} sent ${String(s.sent).padStart(5)}  lost ${s.lost}  broker-lost ${s.brokerLost}  corrupted ${s.corrupted}  dup ${s.duplicated}`),
  );
  process.stdout.write(`${rows.join('\n')}\n`);
  for (const f of result.families) {
    process.stdout.write(`${f.family}: faults ${JSON.stringify(f.faults)}; crashes ${f.crashes}; longest stall after a fault cleared ${f.maxResumeSeconds} s (by kind: ${JSON.stringify(f.stallByKind)}; by fault: ${JSON.stringify(f.stallByFault)}), longest gap in delivery ${f.maxStallSeconds} s; drained in ${f.drainSeconds} s; QoS 2 resent after release, not forwarded twice: ${f.qos2ResentSuppressed.in} in, ${f.qos2ResentSuppressed.out} out\n`);
    for (const line of f.slowest) process.stdout.write(`  slowest: ${line}\n`);
    for (const line of f.unresumed) process.stdout.write(`  stalled: ${line}\n`);
    for (const line of f.crashLines) process.stdout.write(`  crash: ${line}\n`);
    for (const line of [...f.faultErrors, ...f.emulatorExits]) process.stdout.write(`  fault not applied: ${line}\n`);
    for (const line of f.qos2DuplicateSamples) process.stdout.write(`  QoS 2 duplicate: ${line}\n`);
    if (!f.drained) process.stdout.write(`  not drained; lost e.g. ${f.lostSamples.join('; ')}\n  faults: ${f.timeline.join(', ')}\n`);
  }
  process.stdout.write(`totals: ${JSON.stringify(result.totals)}; faults ${JSON.stringify(result.faults)}\n`);
  for (const [what, f] of Object.entries({ ...result.stalls.byKind, ...result.stalls.byFault })) {
    process.stdout.write(`stall after ${what}: ${f.n} faults, median ${f.median} s, max ${f.max} s, ${f.overCap} over the ${result.capSeconds} s cap\n`);
  }
  writeFileSync(arg('out') ?? join(RESULTS, 'soak.json'), `${JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
  const t = result.totals;
  const ok = t.lost === 0 && t.qos2Duplicated === 0 && t.crashes === 0 && t.corrupted === 0 && t.faultErrors === 0;
  process.exit(ok ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
