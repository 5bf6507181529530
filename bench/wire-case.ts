import type { Duplex } from 'node:stream';
import { MqttClient } from '../src/mqtt/client.js';
import { openModemSession, type OpenedModemSession } from '../src/modem/session.js';
import type { ModemSocket } from '../src/socket/modem-socket.js';
import type { Tap } from '../src/transport/tap.js';
import type { Broker } from './broker.js';
import { payload, type Workload } from './workloads.js';
import { getProfile } from '../src/profile/index.js';

/** A firmware profile id with an emulator dialect (`sim7600`, `esp-at`, `quectel`, …). */
export type Family = string;
export type Mode = 'command' | 'transparent';

export interface CaseSpec {
  family: Family;
  mode: Mode;
  /** false: one AT+CIPSEND per MQTT packet (the TinyGSM way). */
  coalesce: boolean;
  baud: number;
  latencyMs: number;
  rttMs: number;
  inflight: number;
  workload: Workload;
  /** Host-side profile override (a path to a profile JSON) for what-if runs; the emulator keeps its own. */
  hostProfile?: string;
  /** Label for what-if runs. */
  variant?: string;
  /** APN for cellular families whose bring-up needs one (SIM800's AT+CSTT, A76xx's CGDCONT/CGACT). */
  apn?: string;
  recvMode?: 'push' | 'buffered';
}

export interface CaseResult {
  family: Family;
  mode: Mode;
  coalesce: boolean;
  baud: number;
  workload: string;
  messages: number;
  /** MQTT bytes through the module's socket during the workload, both directions. */
  mqttBytes: number;
  mqttUp: number;
  mqttDown: number;
  /** Bytes that crossed the serial line during the workload, both directions. */
  serialBytes: number;
  serialToModule: number;
  serialToHost: number;
  efficiency: number;
  /** AT+CIPSEND calls (or link writes in transparent mode) during the workload. */
  sends: number;
  seconds: number;
  msgPerSec: number;
  /** msg/s the line rate alone allows: (baud/10) ÷ MQTT bytes per message in the busier direction. */
  boundMsgPerSec: number;
  ratioToBound: number;
  /** Rate between the first and the last completion (PUBACK, write done, or delivery): ramp-up and tail taken out. */
  steadyMsgPerSec: number;
  steadyRatioToBound: number;
  variant?: string;
}

/** `extra`: more emulator options, e.g. `autojoin=atbridge-lab`. */
export function emulatorUrl(family: Family, baud: number, latencyMs: number, rttMs: number, pacing = true, extra?: string): string {
  return `emu:${family}?baud=${baud}&pacing=${pacing ? 1 : 0}&latency=${latencyMs}&rtt=${rttMs}${extra ? `&${extra}` : ''}`;
}

export async function openSession(family: Family, mode: Mode, baud: number, latencyMs: number, rttMs: number, taps = [] as Tap[], hostProfile?: string, extra?: string, apn?: string, recvMode: 'push' | 'buffered' = 'push'): Promise<OpenedModemSession> {
  const wifi = getProfile(family).family === 'wifi';
  return openModemSession(
    {
      device: emulatorUrl(family, baud, latencyMs, rttMs, true, extra),
      profile: hostProfile ?? family,
      baud,
      transparent: mode === 'transparent',
      recvMode,
      ...(apn !== undefined && !wifi ? { apn } : {}),
      ...(process.env.BENCH_TRACE ? { trace: `${process.env.BENCH_TRACE}-${family}-${mode}.jsonl` } : {}),
      ...(wifi ? { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' } : {}),
    },
    { taps },
  );
}

let clientSeq = 0;
const CASE_TIMEOUT_MS = 120_000;

/** One workload through one emulated module, counted on both sides of the serial line. */
export async function runCase(spec: CaseSpec, broker: Broker): Promise<CaseResult> {
  const session = await openSession(spec.family, spec.mode, spec.baud, spec.latencyMs, spec.rttMs, [], spec.hostProfile, undefined, spec.apn, spec.recvMode);
  const wire = session.device.emulator!.wire;
  let socket: ModemSocket | undefined;
  const client = new MqttClient({
    connect: async (): Promise<Duplex> => {
      socket = (await session.connect(broker.host, broker.port)) as ModemSocket;
      socket.coalesce = spec.coalesce;
      return socket;
    },
    protocolVersion: 4,
    clientId: `bench-${process.pid}-${++clientSeq}`,
    keepalive: 600,
    inflight: spec.inflight,
    reconnect: false,
  });
  let publisher: MqttClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.start();
    const w = spec.workload;
    const stamps: number[] = [];
    let received = 0;
    let allReceived: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      allReceived = resolve;
      failed = reject;
    });
    done.catch(() => {});
    client.on('close', () => failed(new Error('the MQTT connection through the module closed mid-workload')));
    timer = setTimeout(() => failed(new Error(`${spec.workload.id} did not finish within ${CASE_TIMEOUT_MS / 1000} s`)), CASE_TIMEOUT_MS);
    if (w.direction === 'sub') {
      client.on('message', () => {
        stamps.push(performance.now());
        if (++received === w.count) allReceived();
      });
      await client.subscribe(w.topic, { qos: w.qos });
      publisher = new MqttClient({
        connect: () => tcp(broker),
        protocolVersion: 4,
        clientId: `bench-pub-${process.pid}-${clientSeq}`,
        inflight: 1000,
        reconnect: false,
      });
      await publisher.start();
    }
    await settleWire(wire, socket!);
    const start = snapshot(wire, socket!);
    const t0 = performance.now();
    if (w.direction === 'pub') {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < w.count; i++) sends.push(handled(client.publish(w.topic, payload(w.payloadBytes, i), { qos: w.qos }).then(() => void stamps.push(performance.now()))));
      await Promise.race([Promise.all(sends), done]);
    } else {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < w.count; i++) sends.push(handled(publisher!.publish(w.topic, payload(w.payloadBytes, i), { qos: w.qos })));
      await done;
      await Promise.all(sends);
    }
    clearTimeout(timer);
    const seconds = (performance.now() - t0) / 1000;
    await settleWire(wire, socket!);
    const end = snapshot(wire, socket!);
    const mqttUp = end.up - start.up;
    const mqttDown = end.down - start.down;
    const serialToModule = end.toModule - start.toModule;
    const serialToHost = end.toHost - start.toHost;
    const perMsg = Math.max(mqttUp, mqttDown) / w.count;
    const boundMsgPerSec = spec.baud / 10 / perMsg;
    const msgPerSec = w.count / seconds;
    const span = (stamps[stamps.length - 1]! - stamps[0]!) / 1000;
    const steadyMsgPerSec = span > 0 ? (stamps.length - 1) / span : msgPerSec;
    return {
      family: spec.family,
      mode: spec.mode,
      coalesce: spec.coalesce,
      baud: spec.baud,
      workload: w.id,
      messages: w.count,
      mqttBytes: mqttUp + mqttDown,
      mqttUp,
      mqttDown,
      serialBytes: serialToModule + serialToHost,
      serialToModule,
      serialToHost,
      efficiency: (mqttUp + mqttDown) / (serialToModule + serialToHost),
      sends: end.sends - start.sends,
      seconds,
      msgPerSec,
      boundMsgPerSec,
      ratioToBound: msgPerSec / boundMsgPerSec,
      steadyMsgPerSec,
      steadyRatioToBound: steadyMsgPerSec / boundMsgPerSec,
      ...(spec.variant ? { variant: spec.variant } : {}),
    };
  } finally {
    clearTimeout(timer);
    await publisher?.end(true).catch(() => undefined);
    await client.end(true).catch(() => undefined);
    await session.close().catch(() => undefined);
  }
}

interface Snap {
  up: number;
  down: number;
  toModule: number;
  toHost: number;
  sends: number;
}

function snapshot(wire: { bytesToHost: number; bytesToModule: number }, socket: ModemSocket): Snap {
  return { up: socket.bytesWritten, down: socket.bytesRead, toModule: wire.bytesToModule, toHost: wire.bytesToHost, sends: socket.sends };
}

/** Until nothing has crossed the line for a while (late confirmations and URCs counted in full). */
async function settleWire(wire: { bytesToHost: number; bytesToModule: number }, socket: ModemSocket, quietMs = 250): Promise<void> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const now = wire.bytesToHost + wire.bytesToModule + socket.bytesRead + socket.bytesWritten;
    if (now === last && socket.writableLength === 0) return;
    last = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

async function tcp(broker: Broker): Promise<Duplex> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: broker.host, port: broker.port });
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Marks a promise as observed (a failed case must not crash the run); it still rejects for its awaiter. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}
