import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../errors.js';
import { MqttClient } from '../mqtt/client.js';
import { epochMs, nowUs, sleep } from './clock.js';
import { publishPacketBytes } from './packet-size.js';
import { buildPayload, parsePayload } from './payload.js';
import { ResourceSampler } from './resources.js';
import type { ProbeResult } from './result.js';
import { arrivalSample, connectSample, failureCode, lostSample, publishSample, timed, type SamplerOptions } from './run-latency.js';
import { distribution, histogram } from './stats.js';
import { MessageTracker } from './tracker.js';

export interface LoadRunOptions extends SamplerOptions {
  /** A fresh stream straight to the broker. */
  connect: () => Promise<Duplex>;
  clients: number;
  /** New connections a second. */
  connectRate: number;
}

/**
 * Load against a broker, like the JMeter plugin's thread groups (or emqtt-bench): N clients
 * connecting at a given rate, each publishing timestamped messages to its own topic and receiving
 * them back on its own subscription.
 */
export async function runLoad(o: LoadRunOptions): Promise<ProbeResult> {
  const runId = randomBytes(4).toString('hex');
  const base = o.topic ?? `atbridge/probe/${runId}`;
  const startUs = nowUs();
  const tracker = new MessageTracker(startUs);
  const failures: Record<string, number> = {};
  const fail = (key: string) => (failures[key] = (failures[key] ?? 0) + 1);
  const connack: number[] = [];
  const tcp: number[] = [];
  const clients: MqttClient[] = [];
  const protocolVersion = o.client.protocolVersion ?? 4;
  let active = 0;
  let sent = 0;
  let completed = 0;
  let firstSendUs: number | undefined;
  let lastSendUs = startUs;
  const resources = new ResourceSampler();
  const pending = new Set<Promise<void>>();

  let live: NodeJS.Timeout | undefined;
  let last = { us: startUs, received: 0, points: 0 };
  if (o.onLive) {
    live = setInterval(() => {
      const now = nowUs();
      const d = distribution(tracker.points.slice(last.points).map((p) => p.delay));
      o.onLive!({
        elapsedS: (now - startUs) / 1e6,
        sent,
        received: tracker.receivedCount,
        missing: tracker.missing,
        ...(d ? { p50: d.p50, p99: d.p99 } : {}),
        arrivalRate: (tracker.receivedCount - last.received) / ((now - last.us) / 1e6),
        connected: active > 0,
      });
      last = { us: now, received: tracker.receivedCount, points: tracker.points.length };
    }, o.liveIntervalMs ?? 1000);
  }

  const runClient = async (index: number): Promise<void> => {
    const id = `${runId}.${index}`;
    const topic = `${base}/${index}`;
    const thread = `probe 1-${index + 1}`;
    const url = `${o.url}/${topic}`;
    const tcpTimes: number[] = [];
    const client = new MqttClient({ ...o.client, clientId: `${o.client.clientId}-${index}`, connect: timed(o.connect, tcpTimes), inflight: o.inflight, reconnect: false });
    clients.push(client);
    client.on('message', (_t, payload) => {
      const at = nowUs();
      const stamp = parsePayload(payload);
      if (!stamp || stamp.runId !== id) return;
      const arrival = tracker.recordArrival(stamp.runId, stamp.seq, at);
      if (arrival.kind === 'foreign') return;
      o.samples.add(arrivalSample(url, stamp, arrival, payload.length, thread, active));
    });
    client.on('offline', (reason) => {
      if (reason) fail(`disconnected: ${reason.code}`);
    });
    const connectEpoch = epochMs();
    const connectUs = nowUs();
    try {
      await client.start();
    } catch (err) {
      fail(`connect: ${failureCode(err)}`);
      o.samples.add(connectSample(url, connectEpoch, (nowUs() - connectUs) / 1000, tcpTimes[0] ?? 0, err, thread, active));
      o.onNote?.(`client ${index + 1}: ${errorMessage(err)}`);
      return;
    }
    active++;
    const connackMs = (nowUs() - connectUs) / 1000;
    connack.push(connackMs);
    if (tcpTimes[0] !== undefined) tcp.push(tcpTimes[0]);
    o.samples.add(connectSample(url, connectEpoch, connackMs, tcpTimes[0] ?? 0, undefined, thread, active));
    try {
      await client.subscribe(topic, { qos: 2 });
    } catch (err) {
      fail(`subscribe: ${failureCode(err)}`);
      return;
    }

    const begin = nowUs();
    firstSendUs ??= begin;
    const intervalUs = 1e6 / o.rate;
    const end = o.durationMs !== undefined ? begin + o.durationMs * 1000 : Number.POSITIVE_INFINITY;
    const total = o.count ?? Number.POSITIVE_INFINITY;
    for (let seq = 0; seq < total && !o.signal?.aborted && client.connected; seq++) {
      const due = begin + seq * intervalUs;
      if (due >= end) break;
      const wait = (due - nowUs()) / 1000;
      if (wait > 1) await sleep(wait);
      if (o.signal?.aborted || !client.connected) break;
      const qos = o.qos[seq % o.qos.length]!;
      const sentUs = nowUs();
      const sentEpoch = epochMs(sentUs);
      const payload = buildPayload({ sentEpochMs: sentEpoch, runId: id, seq, qos, sentUs }, o.size);
      tracker.recordSend(id, seq, qos, sentUs, sentEpoch);
      sent++;
      lastSendUs = sentUs;
      const bytes = publishPacketBytes(topic, payload.length, qos, protocolVersion);
      const p = client.publish(topic, payload, { qos }).then(
        () => {
          completed++;
          const ackMs = (nowUs() - sentUs) / 1000;
          if (qos > 0) tracker.recordAck(id, seq, ackMs);
          o.samples.add(publishSample(url, qos, sentEpoch, ackMs, bytes, payload.length, undefined, thread, active));
        },
        (err: unknown) => {
          fail(`publish: ${failureCode(err)}`);
          tracker.recordFailure(id, seq, errorMessage(err));
          o.samples.add(publishSample(url, qos, sentEpoch, (nowUs() - sentUs) / 1000, bytes, payload.length, err, thread, active));
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  };

  const tasks: Promise<void>[] = [];
  try {
    for (let i = 0; i < o.clients && !o.signal?.aborted; i++) {
      const due = startUs + (i * 1e6) / o.connectRate;
      const wait = (due - nowUs()) / 1000;
      if (wait > 1) await sleep(wait);
      tasks.push(runClient(i));
    }
    await Promise.all(tasks);
    const sendEndUs = nowUs();
    const deadline = sendEndUs + o.waitMs * 1000;
    while (!tracker.complete && nowUs() < deadline && !o.signal?.aborted) await sleep(20);
    const endUs = nowUs();
    if (live) clearInterval(live);
    const usage = resources.finish();
    const lost = tracker.lostMessages();
    for (const m of lost) {
      fail(`lost: q${m.qos}`);
      o.samples.add(lostSample(o.url, m, endUs, o.waitMs, `probe 1-${Number(m.runId.split('.')[1]) + 1}`, active));
    }
    const delays = tracker.points.map((p) => p.delay);
    const sendStart = firstSendUs ?? startUs;
    const sendSeconds = Math.max(0, (lastSendUs - sendStart) / 1e6);
    const lastArrival = tracker.points.reduce((m, p) => Math.max(m, startUs + p.t * 1e6 + p.delay * 1000), sendStart);
    const perQos = tracker.perQos(o.qos);
    return {
      mode: 'load',
      receiver: 'own-subscription',
      topic: `${base}/<client>`,
      runId,
      qos: [...o.qos],
      size: o.size,
      rate: o.rate,
      startedAt: new Date(epochMs(startUs)).toISOString(),
      sendSeconds,
      elapsedSeconds: (endUs - startUs) / 1e6,
      clients: o.clients,
      sent,
      received: tracker.receivedCount,
      lost: perQos.reduce((n, q) => n + q.lost, 0),
      duplicates: perQos.reduce((n, q) => n + q.duplicates, 0),
      sendRate: sendSeconds > 0 ? sent / sendSeconds : 0,
      arrivalRate: lastArrival > sendStart ? tracker.receivedCount / ((lastArrival - sendStart) / 1e6) : 0,
      delay: distribution(delays),
      perQos,
      connect: distribution(connack),
      outages: [],
      histogram: histogram(delays),
      timeline: tracker.points.map((p) => ({ t: Math.round(p.t * 1e4) / 1e4, delay: Math.round(p.delay * 1e3) / 1e3, qos: p.qos })),
      load: {
        connectRate: o.connectRate,
        connected: connack.length,
        connack: distribution(connack),
        tcpConnect: distribution(tcp),
        publishThroughput: sendSeconds > 0 ? completed / Math.max(sendSeconds, (sendEndUs - sendStart) / 1e6) : completed,
        failures,
        process: usage,
      },
    };
  } finally {
    if (live) clearInterval(live);
    resources.stop();
    await Promise.race([Promise.allSettled([...pending]), sleep(100)]);
    await Promise.allSettled(clients.map((c) => c.end()));
    await Promise.allSettled(clients.map((c) => c.end(true)));
  }
}
