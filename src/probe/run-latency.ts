import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { QoS } from 'mqtt-packet';
import { errorMessage } from '../errors.js';
import { MqttClient, type MqttClientOptions } from '../mqtt/client.js';
import { epochMs, nowUs, sleep } from './clock.js';
import { publishPacketBytes } from './packet-size.js';
import { buildPayload, parsePayload, type ProbeStamp } from './payload.js';
import { moduleReading, type ModuleReading, type ProbeResult, type Outage } from './result.js';
import { SampleLog } from './samples.js';
import { lineUse, type SerialCounter } from './serial-counter.js';
import { distribution, histogram } from './stats.js';
import { MessageTracker } from './tracker.js';

export interface LiveFigures {
  elapsedS: number;
  sent: number;
  received: number;
  missing: number;
  /** Over the last interval; undefined when nothing arrived in it. */
  p50?: number;
  p99?: number;
  arrivalRate: number;
  /** Serial line use over the last interval, the busier direction (0..1). */
  lineUse?: number;
  connected: boolean;
}

/** What every probe run takes: the MQTT client, the samplers (JMeter's), the output hooks. */
export interface SamplerOptions {
  client: Omit<MqttClientOptions, 'connect'> & { clientId: string };
  topic?: string;
  qos: QoS[];
  /** Messages a second (per client in a load run). */
  rate: number;
  count?: number;
  durationMs?: number;
  size: number;
  /** After the last send, wait at most this long for what is still on its way. */
  waitMs: number;
  inflight: number;
  url: string;
  samples: SampleLog;
  signal?: AbortSignal;
  onLive?: (figures: LiveFigures) => void;
  liveIntervalMs?: number;
  onNote?: (line: string) => void;
}

export interface LatencyRunOptions extends SamplerOptions {
  /** Opens the publisher's stream (through the module, or straight to the broker). */
  publisher: () => Promise<Duplex>;
  /** A second client's stream for --receiver direct; without it the publisher subscribes itself. */
  receiver?: () => Promise<Duplex>;
  mode: 'module' | 'direct';
  serial?: SerialCounter;
  moduleStatus?: () => Promise<Record<string, unknown>>;
  /** Also read the module's signal and network every this many ms while sending (command mode only). */
  signalEveryMs?: number;
}

const THREAD = 'probe 1-1';

/** One publisher at a fixed rate, each message's delay measured by receiving it back. */
export async function runLatency(o: LatencyRunOptions): Promise<ProbeResult> {
  const runId = randomBytes(4).toString('hex');
  const topic = o.topic ?? `atbridge/probe/${runId}`;
  const startUs = nowUs();
  const tracker = new MessageTracker(startUs);
  const outages: Outage[] = [];
  const connectTimes: number[] = [];
  const protocolVersion = o.client.protocolVersion ?? 4;

  const publisher = new MqttClient({ ...o.client, connect: timed(o.publisher, connectTimes), inflight: o.inflight, reconnect: { baseMs: 500, capMs: 5_000 } });
  const receiver = o.receiver
    ? new MqttClient({ ...o.client, clientId: `${o.client.clientId}-rx`, connect: o.receiver, reconnect: { baseMs: 500, capMs: 5_000 } })
    : publisher;

  const onMessage = (_topic: string, payload: Buffer) => {
    const at = nowUs();
    const stamp = parsePayload(payload);
    if (!stamp || stamp.runId !== runId) return;
    const arrival = tracker.recordArrival(stamp.runId, stamp.seq, at);
    if (arrival.kind === 'foreign') return;
    o.samples.add(arrivalSample(o.url, stamp, arrival, payload.length));
  };
  receiver.on('message', onMessage);
  let offlineAt: number | undefined;
  publisher.on('offline', (reason) => {
    offlineAt = nowUs();
    outages.push({ atS: (offlineAt - startUs) / 1e6, recoveredAfterS: null, reason: reason?.message ?? 'connection lost' });
    o.onNote?.(`connection lost${reason ? `: ${reason.message}` : ''}`);
  });
  publisher.on('connect', () => {
    if (offlineAt === undefined) return;
    const outage = outages[outages.length - 1]!;
    outage.recoveredAfterS = (nowUs() - offlineAt) / 1e6;
    offlineAt = undefined;
    o.onNote?.(`connection back after ${outage.recoveredAfterS.toFixed(1)} s`);
  });

  // Read before the socket opens: in transparent mode the line is the connection afterwards.
  const moduleBefore = o.moduleStatus ? await o.moduleStatus().catch(() => undefined) : undefined;

  const connectStart = epochMs();
  const connectStartUs = nowUs();
  try {
    if (receiver !== publisher) {
      await receiver.start();
      await receiver.subscribe(topic, { qos: 2 });
    }
    await publisher.start();
  } catch (err) {
    o.samples.add(connectSample(o.url, connectStart, (nowUs() - connectStartUs) / 1000, connectTimes[0] ?? 0, err));
    await Promise.all([publisher.end(true), receiver.end(true)]);
    throw err;
  }
  o.samples.add(connectSample(o.url, connectStart, (nowUs() - connectStartUs) / 1000, connectTimes[0] ?? 0));
  if (receiver === publisher) await publisher.subscribe(topic, { qos: 2 });

  const serialStart = o.serial?.snapshot();
  const sendStartUs = nowUs();
  let sent = 0;
  let live: NodeJS.Timeout | undefined;
  const during: ModuleReading[] = [];
  let reading: Promise<void> | undefined;
  const readModule = () => {
    if (!o.moduleStatus || reading) return;
    const at = nowUs();
    reading = o.moduleStatus().then(
      // In transparent mode status() cannot ask the module: what it holds is not a reading.
      (s) => void (s.state === 'socket-transparent' ? undefined : during.push({ t: round((at - sendStartUs) / 1e6, 2), ...moduleReading(s) })),
      () => undefined,
    ).finally(() => (reading = undefined));
  };
  const signalTimer = o.signalEveryMs && o.moduleStatus ? setInterval(readModule, o.signalEveryMs) : undefined;
  let lastLive = { us: sendStartUs, received: 0, points: 0, serial: o.serial?.snapshot() };
  if (o.onLive) {
    live = setInterval(() => {
      const now = nowUs();
      const seconds = (now - lastLive.us) / 1e6;
      const recent = tracker.points.slice(lastLive.points).map((p) => p.delay);
      const d = distribution(recent);
      const serialNow = o.serial?.snapshot();
      const use = o.serial && serialNow && lastLive.serial
        ? lineUse(Math.max(serialNow.tx - lastLive.serial.tx, serialNow.rx - lastLive.serial.rx), o.serial.baud, seconds)
        : undefined;
      o.onLive!({
        elapsedS: (now - sendStartUs) / 1e6,
        sent,
        received: tracker.receivedCount,
        missing: tracker.missing,
        ...(d ? { p50: d.p50, p99: d.p99 } : {}),
        arrivalRate: (tracker.receivedCount - lastLive.received) / seconds,
        ...(use !== undefined ? { lineUse: use } : {}),
        connected: publisher.connected,
      });
      lastLive = { us: now, received: tracker.receivedCount, points: tracker.points.length, serial: serialNow };
    }, o.liveIntervalMs ?? 1000);
  }

  const intervalUs = 1e6 / o.rate;
  const total = o.count ?? Number.POSITIVE_INFINITY;
  const endUs = o.durationMs !== undefined ? sendStartUs + o.durationMs * 1000 : Number.POSITIVE_INFINITY;
  const pending = new Set<Promise<void>>();
  try {
    while (sent < total && !o.signal?.aborted) {
      const dueUs = sendStartUs + sent * intervalUs;
      if (dueUs >= endUs) break;
      const wait = (dueUs - nowUs()) / 1000;
      if (wait > 1) await sleep(wait);
      if (o.signal?.aborted) break;
      const seq = sent++;
      const qos = o.qos[seq % o.qos.length]!;
      const sentUs = nowUs();
      const sentEpoch = epochMs(sentUs);
      const payload = buildPayload({ sentEpochMs: sentEpoch, runId, seq, qos, sentUs }, o.size);
      tracker.recordSend(runId, seq, qos, sentUs, sentEpoch);
      const packetBytes = publishPacketBytes(topic, payload.length, qos, protocolVersion);
      const p = publisher.publish(topic, payload, { qos }).then(
        () => {
          const ackMs = (nowUs() - sentUs) / 1000;
          if (qos > 0) tracker.recordAck(runId, seq, ackMs);
          o.samples.add(publishSample(o.url, qos, sentEpoch, ackMs, packetBytes, payload.length));
        },
        (err: unknown) => {
          tracker.recordFailure(runId, seq, errorMessage(err));
          o.samples.add(publishSample(o.url, qos, sentEpoch, (nowUs() - sentUs) / 1000, packetBytes, payload.length, err));
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    const sendEndUs = nowUs();
    // What is still on its way: wait for it, but not forever (a lost QoS 0 message never comes).
    const deadline = nowUs() + o.waitMs * 1000;
    while (!tracker.complete && nowUs() < deadline && !o.signal?.aborted) await sleep(20);
    const endAllUs = nowUs();
    if (live) clearInterval(live);
    if (signalTimer) clearInterval(signalTimer);
    await reading;
    const serialEnd = o.serial?.snapshot();
    // Read after the connection is closed, so a transparent-mode line answers AT again.
    await Promise.allSettled([publisher.end(), receiver === publisher ? Promise.resolve() : receiver.end()]);
    const moduleAfter = o.moduleStatus ? await o.moduleStatus().catch(() => undefined) : undefined;

    for (const lost of tracker.lostMessages()) {
      o.samples.add(lostSample(o.url, lost, endAllUs, o.waitMs));
    }

    const delays = tracker.points.map((p) => p.delay);
    const sendSeconds = (sendEndUs - sendStartUs) / 1e6;
    const lastArrival = tracker.points.reduce((m, p) => Math.max(m, startUs + p.t * 1e6 + p.delay * 1000), sendStartUs);
    const receiveSeconds = (lastArrival - sendStartUs) / 1e6;
    const perQos = tracker.perQos(o.qos);
    const result: ProbeResult = {
      mode: o.mode,
      receiver: receiver === publisher ? 'module-subscription' : 'direct',
      topic,
      runId,
      qos: [...o.qos],
      size: o.size,
      rate: o.rate,
      startedAt: new Date(epochMs(sendStartUs)).toISOString(),
      sendSeconds,
      elapsedSeconds: (endAllUs - sendStartUs) / 1e6,
      clients: 1,
      sent,
      received: tracker.receivedCount,
      lost: perQos.reduce((n, q) => n + q.lost, 0),
      duplicates: perQos.reduce((n, q) => n + q.duplicates, 0),
      sendRate: sendSeconds > 0 ? sent / sendSeconds : 0,
      arrivalRate: receiveSeconds > 0 ? tracker.receivedCount / receiveSeconds : 0,
      delay: distribution(delays),
      perQos,
      connect: distribution(connectTimes),
      outages,
      histogram: histogram(delays),
      timeline: tracker.points.map((p) => ({ t: round(p.t, 4), delay: round(p.delay, 3), qos: p.qos })),
    };
    if (o.serial && serialStart && serialEnd) {
      const tx = serialEnd.tx - serialStart.tx;
      const rx = serialEnd.rx - serialStart.rx;
      const seconds = (endAllUs - sendStartUs) / 1e6;
      result.serial = {
        baud: o.serial.baud ?? null,
        txBytes: tx,
        rxBytes: rx,
        perMessage: sent > 0 ? { tx: tx / sent, rx: rx / sent, total: (tx + rx) / sent } : null,
        lineUse: { tx: lineUse(tx, o.serial.baud, seconds) ?? null, rx: lineUse(rx, o.serial.baud, seconds) ?? null },
      };
    }
    if (moduleBefore || moduleAfter) result.module = { before: moduleBefore ?? null, after: moduleAfter ?? null, during };
    return result;
  } finally {
    if (live) clearInterval(live);
    if (signalTimer) clearInterval(signalTimer);
    await Promise.race([Promise.allSettled([...pending]), sleep(100)]);
    await Promise.allSettled([publisher.end(), receiver === publisher ? Promise.resolve() : receiver.end()]);
    await Promise.allSettled([publisher.end(true), receiver.end(true)]);
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Wraps a stream factory to record how long each stream took to open (JMeter's Connect). */
export function timed(connect: () => Promise<Duplex>, times: number[]): () => Promise<Duplex> {
  return async () => {
    const start = nowUs();
    const stream = await connect();
    times.push((nowUs() - start) / 1000);
    return stream;
  };
}

export function connectSample(url: string, start: number, elapsedMs: number, tcpMs: number, err?: unknown, thread = THREAD, threads = 1) {
  return {
    label: 'MQTT Connect',
    timeStamp: start,
    elapsed: Math.round(elapsedMs),
    latency: Math.round(elapsedMs),
    connect: Math.round(tcpMs),
    success: err === undefined,
    responseCode: err === undefined ? '200' : failureCode(err),
    responseMessage: err === undefined ? 'CONNACK' : errorMessage(err),
    failureMessage: err === undefined ? '' : errorMessage(err),
    bytes: 0,
    sentBytes: 0,
    threadName: thread,
    grpThreads: threads,
    allThreads: threads,
    url,
  };
}

export function publishSample(url: string, qos: number, start: number, elapsedMs: number, packetBytes: number, _payloadBytes: number, err?: unknown, thread = THREAD, threads = 1) {
  return {
    label: `MQTT Pub q${qos}`,
    timeStamp: start,
    elapsed: Math.round(elapsedMs),
    latency: Math.round(elapsedMs),
    connect: 0,
    success: err === undefined,
    responseCode: err === undefined ? '200' : failureCode(err),
    responseMessage: err === undefined ? (qos === 0 ? 'written' : qos === 1 ? 'PUBACK' : 'PUBCOMP') : errorMessage(err),
    failureMessage: err === undefined ? '' : errorMessage(err),
    bytes: 0,
    sentBytes: packetBytes,
    threadName: thread,
    grpThreads: threads,
    allThreads: threads,
    url,
  };
}

/** The sample of one arrival: the first copy succeeds, a later copy is a failed `duplicate`. */
export function arrivalSample(url: string, stamp: ProbeStamp, arrival: { kind: 'first' | 'duplicate'; delayMs: number; qos: number }, bytes: number, thread = THREAD, threads = 1) {
  const first = arrival.kind === 'first';
  return {
    label: `MQTT Sub q${arrival.qos}`,
    timeStamp: stamp.sentEpochMs,
    elapsed: Math.round(arrival.delayMs),
    latency: Math.round(arrival.delayMs),
    connect: 0,
    success: first,
    responseCode: first ? '200' : 'duplicate',
    responseMessage: first ? 'OK' : 'duplicate',
    failureMessage: first ? '' : `message ${stamp.seq} received again`,
    bytes,
    sentBytes: 0,
    threadName: thread,
    grpThreads: threads,
    allThreads: threads,
    url,
  };
}

/** The sample of a message that never arrived, timed up to the end of the wait. */
export function lostSample(url: string, lost: { seq: number; qos: number; sentEpochMs: number; failed?: string }, endUs: number, waitMs: number, thread = THREAD, threads = 1) {
  return {
    label: `MQTT Sub q${lost.qos}`,
    timeStamp: lost.sentEpochMs,
    elapsed: Math.max(0, epochMs(endUs) - lost.sentEpochMs),
    latency: 0,
    connect: 0,
    success: false,
    responseCode: 'lost',
    responseMessage: 'not received',
    failureMessage: lost.failed ?? `message ${lost.seq} not received within ${(waitMs / 1000).toFixed(1)} s of the last send`,
    bytes: 0,
    sentBytes: 0,
    threadName: thread,
    grpThreads: threads,
    allThreads: threads,
    url,
  };
}

/** A short code for a failure: the error's own code (mqtt-connect-refused, ...) or "error". */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.length > 0 ? code : 'error';
}
