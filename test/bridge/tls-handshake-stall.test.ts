import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bridge } from '../../src/bridge/bridge.js';
import { parseConfigText, resolveConfig } from '../../src/bridge/config.js';
import { RemoteLink } from '../../src/bridge/remote-link.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { uniqueId } from '../mqtt/support.js';
import { publisher, until, watcher } from './support.js';

/**
 * Dense line noise, issue 21: one flipped bit in the length field of a TLS record header makes the
 * receiver wait for bytes that never come; both ends then wait, and before connect_timeout the
 * bridge waited out a 30 s connect timeout each time. Here a hop in front of the broker's TLS
 * listener flips one bit of the first record's length (ServerHello, ~100 bytes, now 8 KiB longer)
 * on the first connections, exactly as a noisy line does; after that it passes bytes untouched.
 * The bridge must abandon each stalled handshake at connect_timeout and make it again, then deliver.
 */
const STALLED = 2;

interface FlipHop {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP hop that flips bit 5 of byte 3 (the record length's high byte) of the server's first bytes on the first `n` connections. */
async function startFlipHop(target: number, n: number): Promise<FlipHop> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const flip = connections++ < n;
    const broker = net.connect({ host: '127.0.0.1', port: target });
    let offset = 0;
    for (const s of [client, broker]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        broker.destroy();
      });
    }
    client.on('data', (chunk) => broker.write(chunk));
    broker.on('data', (chunk: Buffer) => {
      if (flip && offset <= 3 && offset + chunk.length > 3) {
        chunk = Buffer.from(chunk);
        chunk[3 - offset]! ^= 0x20;
      }
      offset += chunk.length;
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a TLS handshake stalled by a damaged record header', () => {
  let local: Mosquitto | undefined;
  let remote: Mosquitto | undefined;
  let hop: FlipHop | undefined;
  let bridge: Bridge | undefined;
  const clients: { end(force?: boolean): Promise<void> }[] = [];
  afterAll(async () => {
    await bridge?.stop(2000);
    await Promise.all(clients.map((c) => c.end(true)));
    await hop?.close();
    await Promise.all([local?.stop(), remote?.stop()]);
  });

  it('is abandoned at connect_timeout and made again; then the messages go', async () => {
    [local, remote] = await Promise.all([startMosquitto(), startMosquitto({ tls: true })]);
    hop = await startFlipHop(remote.tlsPort!, STALLED);
    const atRemote = await watcher(remote, ['sensors/#']);
    const localPub = await publisher(local);
    clients.push(atRemote.client, localPub);
    const log: string[] = [];
    const config = resolveConfig(parseConfigText([
      `connection ${uniqueId('stall')}`,
      `local mqtt://127.0.0.1:${local.port}`,
      `remote mqtts://localhost:${hop.port}`,
      `bridge_cafile ${remote.certs!.caFile}`,
      'device emu:sim7600?pacing=0',
      'profile sim7600',
      'restart_timeout 0.1 0.5',
      'keepalive_interval 10',
      'connect_timeout 1',
      'queue_fsync interval',
      `queue_dir ${mkdtempSync(join(tmpdir(), 'atb-stall-q-'))}`,
      'topic sensors/# out 1',
    ].join('\n')));
    expect(config.remote.connectTimeoutMs).toBe(1000);
    const link = new RemoteLink({ host: config.remote.host, port: config.remote.port, tls: config.remote.tls, modem: config.modem, log: (l) => log.push(l) });
    bridge = new Bridge({ ...config, link, log: (l) => log.push(l) });
    bridge.start();
    await until(() => bridge!.stats.linkState === 'up', 'the remote link up after the stalled handshakes', 60_000);
    await until(async () => {
      await localPub.publish('sensors/after', 'x', { qos: 1 });
      return atRemote.count('sensors/after x') > 0;
    }, 'a message across', 30_000);
    const abandoned = log.filter((l) => /TLS handshake with the broker was not done within 1 s \(connect_timeout\)/.test(l));
    expect(abandoned.length).toBeGreaterThanOrEqual(STALLED);
    expect(hop.connections).toBeGreaterThan(STALLED);
  }, 90_000);
});

describe('connect_timeout', () => {
  const resolve = (lines: string[]) => resolveConfig(parseConfigText(['remote broker.example.com', 'topic a/#', ...lines].join('\n')), {});

  it('defaults to half the keepalive, within 5 to 30 s', () => {
    expect(resolve([]).remote.connectTimeoutMs).toBe(30_000);
    expect(resolve(['keepalive_interval 10']).remote.connectTimeoutMs).toBe(5000);
    expect(resolve(['keepalive_interval 30']).remote.connectTimeoutMs).toBe(15_000);
    expect(resolve(['keepalive_interval 0']).remote.connectTimeoutMs).toBe(30_000);
    expect(resolve(['connect_timeout 2.5']).remote.connectTimeoutMs).toBe(2500);
  });

  it('a bad value is one clear error', () => {
    expect(() => resolve(['connect_timeout soon'])).toThrow(/connect_timeout must be a number of seconds/);
  });
});
