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
export async function startSoakBroker(_dir: string, tls: boolean): Promise<SoakBroker> {
  const broker: Mosquitto = await startMosquitto({ tls, persistence: true, ...(process.env.SOAK_BROKER_DEBUG ? { extraConfig: ['log_type debug'] } : {}) });
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
