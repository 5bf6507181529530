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

export async function startSoakBroker(_dir: string, tls: boolean): Promise<SoakBroker> {
  const broker: Mosquitto = await startMosquitto({ tls, persistence: true });
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
