import type { Duplex } from 'node:stream';
import { MqttClient } from '../src/mqtt/client.js';
import type { Tap } from '../src/transport/tap.js';
import type { Broker } from './broker.js';
import { openSession, type Family, type Mode } from './wire-case.js';
import { getProfile } from '../src/profile/index.js';

export interface ConnackResult {
  family: Family;
  mode: Mode;
  baud: number;
  latencyMs: number;
  rttMs: number;
  /** AT commands written from power-on to CONNACK (each one is a round trip: command → final). */
  atRoundTrips: number;
  /** Seconds from the power-on banner reaching the host to CONNACK. */
  secondsFromBanner: number;
  /** The conversation, for the cause analysis: command and ms until the next thing the host wrote. */
  commands: { command: string; ms: number }[];
}


/**
 * A cold module (powered on with the host), registered from the start: count the AT round trips
 * and the modelled seconds until the broker's CONNACK arrives through the module. An ESP-AT
 * module's counterpart of "registered" is "already on its AP": credentials stored in flash, so it
 * joins by itself after `ready` (WIFI CONNECTED, WIFI GOT IP), as a deployed gateway's module does.
 */
export async function timeToConnack(family: Family, mode: Mode, broker: Broker, baud = 115200, latencyMs = 5, rttMs = 100, apn?: string): Promise<ConnackResult> {
  const profile = getProfile(family);
  const banner = (text: string) => text.split(/\r\n/).slice(1, -1).some((line) => profile.isReady(line));
  const writes: { t: number; text: string }[] = [];
  let rxText = '';
  let bannerAt: number | undefined;
  const tap: Tap = {
    tx(data) {
      writes.push({ t: performance.now(), text: data.subarray(0, 64).toString('latin1') });
    },
    rx(data) {
      if (bannerAt !== undefined) return;
      rxText = (rxText + data.toString('latin1')).slice(-256);
      if (banner(rxText)) bannerAt = performance.now();
    },
  };
  const t0 = performance.now();
  const session = await openSession(family, mode, baud, latencyMs, rttMs, [tap], undefined, profile.family === 'wifi' ? 'autojoin=atbridge-lab' : undefined, apn);
  const client = new MqttClient({
    connect: (): Promise<Duplex> => session.connect(broker.host, broker.port),
    protocolVersion: 4,
    clientId: `bench-connack-${process.pid}-${family}-${mode}`,
    keepalive: 60,
    reconnect: false,
  });
  try {
    await client.start();
    const connackAt = performance.now();
    const at = writes.filter((w) => /^AT/i.test(w.text));
    const commands = at.map((w) => {
      const next = writes.find((x) => x.t > w.t);
      return { command: w.text.replace(/[\r\n]+$/, '').replace(/"[^"]*"(,"[^"]*")?$/, '"…"'), ms: Math.round(((next?.t ?? connackAt) - w.t) * 10) / 10 };
    });
    return {
      family,
      mode,
      baud,
      latencyMs,
      rttMs,
      atRoundTrips: at.length,
      secondsFromBanner: (connackAt - (bannerAt ?? t0)) / 1000,
      commands,
    };
  } finally {
    await client.end(true).catch(() => undefined);
    await session.close().catch(() => undefined);
  }
}
