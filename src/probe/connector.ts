import net from 'node:net';
import type { Duplex } from 'node:stream';
import { AtbridgeError, errorMessage } from '../errors.js';
import { modemSessionOptions, type ModemCliOptions } from '../cli/modem-options.js';
import type { OpenedModemSession } from '../modem/session.js';
import { startTls } from '../mqtt/tls.js';
import type { ConnectionSetup } from '../mqtt/cli/options.js';
import { SerialCounter } from './serial-counter.js';

/** Where the probe's streams come from: the module (one session, counted on the serial line) or this host. */
export interface ProbeConnector {
  /** The publisher's stream: through the module with --device, else direct. */
  publisher: () => Promise<Duplex>;
  /** A direct stream from this host (the --receiver direct client, and load clients). */
  direct: () => Promise<Duplex>;
  serial: SerialCounter | undefined;
  moduleStatus: (() => Promise<Record<string, unknown>>) | undefined;
  close(): Promise<void>;
}

export async function openProbeConnector(setup: ConnectionSetup, modem: ModemCliOptions, progress: (line: string) => void): Promise<ProbeConnector> {
  const tls = async (stream: Duplex): Promise<Duplex> => (setup.tls ? startTls(stream, { ...setup.tls, servername: setup.host }) : stream);
  const direct = async () => tls(await tcpConnect(setup.host, setup.port));
  if (!modem.device) return { publisher: direct, direct, serial: undefined, moduleStatus: undefined, close: async () => undefined };

  const serial = new SerialCounter();
  const secrets = [setup.client.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const { openModemSession } = await import('../modem/session.js');
  const session: OpenedModemSession = await openModemSession(modemSessionOptions(modem, { secrets, onProgress: progress }), { taps: [serial] });
  serial.baud = session.device.link.baud ?? (typeof session.modem.facts.baud === 'number' ? session.modem.facts.baud : undefined);
  return {
    publisher: async () => {
      progress(`opening TCP ${setup.host}:${setup.port} through the module`);
      return tls(await session.connect(setup.host, setup.port));
    },
    direct,
    serial,
    moduleStatus: () => session.status(),
    close: () => session.close(),
  };
}

/** A TCP connection from this host, with one clear line when it fails. */
export function tcpConnect(host: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AtbridgeError('tcp-timeout', `no answer from ${host}:${port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = err.code === 'ECONNREFUSED';
      reject(
        new AtbridgeError(refused ? 'connection-refused' : 'tcp-failed', refused ? `connection refused by ${host}:${port}` : `cannot reach ${host}:${port}: ${errorMessage(err)}`, {
          fix: refused ? 'is the broker running, and is -p the right port?' : 'check -h and the network',
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
  });
}
