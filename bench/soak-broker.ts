import type { Duplex } from 'node:stream';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import { tcp } from '../test/mqtt/support.js';

/** A mosquitto with persistence for the soak (the test helper's: same config, same certificates). */
export interface SoakBroker {
  port: number;
  tlsPort: number | undefined;
  caFile: string;
  connect: () => Promise<Duplex>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** What the broker logged so far (connections, disconnects, persistence), for a failing run. */
  log(): string;
}

/**
 * SOAK_BROKER_DEBUG=1: mosquitto logs every packet (`Received PUBLISH from … (d0, q1, … m12, 'topic', … (5 bytes))`),
 * so a lost message's hop can be counted from the logs that SOAK_KEEP=1 keeps.
 */
/**
 * `inflight`: the broker's max_inflight_messages. 0 (no window) by default: mosquitto 2.0.11 loses
 * messages queued behind the window of a persistent client when it restarts, even on SIGTERM with its
 * database saved (bench/soak-broker-restore.ts shows it) — a loss of the broker's that the soak would
 * count as the bridge's. `npm run soak -- --broker-inflight 20` runs with mosquitto's default.
 */
export async function startSoakBroker(_dir: string, tls: boolean, inflight = 0): Promise<SoakBroker> {
  const extraConfig = [`max_inflight_messages ${inflight}`, ...(process.env.SOAK_BROKER_DEBUG ? ['log_type debug'] : [])];
  const broker: Mosquitto = await startMosquitto({ tls, persistence: true, extraConfig });
  return {
    port: broker.port,
    tlsPort: broker.tlsPort,
    caFile: broker.certs?.caFile ?? '',
    connect: tcp(broker.port),
    restart: () => broker.restart(),
    stop: () => broker.stop(),
    log: () => broker.log(),
  };
}
