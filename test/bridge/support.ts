import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QoS } from 'mqtt-packet';
import { Bridge } from '../../src/bridge/bridge.js';
import { parseConfigText, resolveConfig } from '../../src/bridge/config.js';
import { RemoteLink } from '../../src/bridge/remote-link.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tcp, uniqueId } from '../mqtt/support.js';

export const EMULATED_MODULE = 'emu:sim7600?pacing=0';

export interface InProcessOptions {
  /** Reach the remote over its TLS listener (mqtts://localhost, the name in its test certificate; its CA as bridge_cafile). */
  tls?: boolean;
  device?: string;
}

/** A bridge in this process, configured through the same config-file path the CLI uses. */
export function inProcessBridge(local: Mosquitto, remote: Mosquitto, lines: string[], log: string[] = [], options: InProcessOptions = {}): Bridge {
  const text = [
    `connection ${uniqueId('br')}`,
    `local mqtt://127.0.0.1:${local.port}`,
    ...(options.tls ? [`remote mqtts://localhost:${remote.tlsPort!}`, `bridge_cafile ${remote.certs!.caFile}`] : [`remote mqtt://127.0.0.1:${remote.port}`]),
    `device ${options.device ?? process.env.ATBRIDGE_BRIDGE_DEVICE ?? EMULATED_MODULE}`,
    'restart_timeout 0.1 0.5',
    'keepalive_interval 10',
    'queue_fsync interval',
    `queue_dir ${mkdtempSync(join(tmpdir(), 'atb-bridge-q-'))}`,
    'status_interval 0.5',
    ...lines,
  ].join('\n');
  const config = resolveConfig(parseConfigText(text));
  const link = new RemoteLink({ host: config.remote.host, port: config.remote.port, tls: config.remote.tls, modem: config.modem, log: (l) => log.push(l) });
  return new Bridge({ ...config, link, log: (l) => log.push(l) });
}

/** Counts every message a client sees, per "topic payload". */
export class Tally {
  readonly seen = new Map<string, number>();
  /** Arrival order. */
  readonly order: string[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const key = `${topic} ${payload.toString()}`;
      this.order.push(key);
      this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    });
  }
  count(key: string): number {
    return this.seen.get(key) ?? 0;
  }
  /** How many of `keys` never arrived / arrived more than once. */
  check(keys: string[]): { missing: number; duplicated: number } {
    let missing = 0;
    let duplicated = 0;
    for (const key of keys) {
      const n = this.count(key);
      if (n === 0) missing++;
      if (n > 1) duplicated++;
    }
    return { missing, duplicated };
  }
}

/** A persistent-session watcher that reconnects (so a broker restart does not lose what it counts). */
export async function watcher(broker: Mosquitto, filters: string[], qos: QoS = 2): Promise<Tally> {
  const client = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('watch'), clean: false, reconnect: { baseMs: 50, capMs: 200 } });
  const tally = new Tally(client);
  await client.start();
  await client.subscribe(filters, { qos });
  return tally;
}

export async function publisher(broker: Mosquitto): Promise<MqttClient> {
  const client = new MqttClient({ connect: tcp(broker.port), clientId: uniqueId('pub'), reconnect: { baseMs: 50, capMs: 200 } });
  await client.start();
  return client;
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function keys(topic: string, prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${topic} ${prefix}-${i}`);
}

/** Starts the bridge and waits until a sensors/ message makes it across: its subscriptions are in place. */
export async function startBridging(bridge: Bridge, localPub: MqttClient, atRemote: Tally): Promise<void> {
  bridge.start();
  await until(() => bridge.stats.linkState === 'up' && bridge.stats.localConnected, 'bridge up');
  await until(async () => {
    await localPub.publish('sensors/ready', 'x', { qos: 1 });
    return atRemote.count('sensors/ready x') > 0;
  }, 'bridge subscribed');
}

/** afterAll: the bridge, then the clients, then the brokers (any of them may not have started). */
export async function stopAll(bridge: Bridge | undefined, clients: (MqttClient | undefined)[], brokers: (Mosquitto | undefined)[]): Promise<void> {
  await bridge?.stop(2000);
  await Promise.all(clients.map((c) => c?.end(true)));
  await Promise.all(brokers.map((b) => b?.stop()));
}

/** Two brokers, a watcher and a publisher on each, and a bridge between them, running. */
export interface BridgeWorld {
  localBroker: Mosquitto;
  remoteBroker: Mosquitto;
  bridge: Bridge;
  atLocal: Tally;
  atRemote: Tally;
  localPub: MqttClient;
  remotePub: MqttClient;
  /** What the bridge logged. */
  log: string[];
  stop(): Promise<void>;
}

export interface WorldOptions extends InProcessOptions {
  /** Config lines: topic lines and any other keys. */
  lines: string[];
  /** Filters the watchers subscribe to on each side. */
  localFilters: string[];
  remoteFilters: string[];
}

export async function startWorld(options: WorldOptions): Promise<BridgeWorld> {
  const [localBroker, remoteBroker] = await Promise.all([startMosquitto(), startMosquitto({ tls: options.tls === true })]);
  const atLocal = await watcher(localBroker, options.localFilters);
  const atRemote = await watcher(remoteBroker, options.remoteFilters);
  const localPub = await publisher(localBroker);
  const remotePub = await publisher(remoteBroker);
  const log: string[] = [];
  const bridge = inProcessBridge(localBroker, remoteBroker, options.lines, log, options);
  const world: BridgeWorld = {
    localBroker,
    remoteBroker,
    bridge,
    atLocal,
    atRemote,
    localPub,
    remotePub,
    log,
    stop: () => stopAll(bridge, [localPub, remotePub, atLocal.client, atRemote.client], [localBroker, remoteBroker]),
  };
  await startBridging(bridge, localPub, atRemote);
  return world;
}
