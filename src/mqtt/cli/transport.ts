import net from 'node:net';
import type { Duplex } from 'node:stream';
import { AtbridgeError, errorMessage } from '../../errors.js';
import { modemSessionOptions, type ModemCliOptions } from '../../cli/modem-options.js';
import type { ModemSession } from '../../modem/session-types.js';
import { startTls } from '../tls.js';
import type { ConnectionSetup } from './options.js';

export interface Connector {
  /** A fresh byte stream to the broker (through the module when --device is given), TLS on top if asked. */
  connect: () => Promise<Duplex>;
  /** Closes the modem session, if one was opened. */
  close: () => Promise<void>;
}

/**
 * With --device the TCP connection is opened by the module (one modem session, reused by every
 * reconnect); without it, directly from this host. TLS, when asked for, always runs here.
 */
export function makeConnector(setup: ConnectionSetup, modem: ModemCliOptions, progress: (line: string) => void): Connector {
  let session: ModemSession | undefined;
  let opening: Promise<ModemSession> | undefined;
  const secrets = [setup.client.password].filter((s): s is string => typeof s === 'string' && s.length > 0);

  const modemSession = (): Promise<ModemSession> => {
    // Loaded only with --device: a plain broker connection never pulls in the modem stack.
    opening ??= import('../../modem/session.js')
      .then(({ openModemSession }) => openModemSession(modemSessionOptions(modem, { secrets, onProgress: progress })))
      .then((s) => (session = s));
    opening.catch(() => (opening = undefined)); // a failed bring-up is retried on the next reconnect
    return opening;
  };

  const plain = async (): Promise<Duplex> => {
    if (modem.device) {
      const s = await modemSession();
      progress(`opening TCP ${setup.host}:${setup.port} through the module`);
      return s.connect(setup.host, setup.port);
    }
    return tcpConnect(setup.host, setup.port);
  };

  return {
    async connect() {
      const stream = await plain();
      if (!setup.tls) return stream;
      return startTls(stream, { ...setup.tls, servername: setup.host });
    },
    async close() {
      const s = session;
      session = undefined;
      opening = undefined;
      if (s) await s.close();
    },
  };
}

function tcpConnect(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true); // each MQTT packet is one write already; do not hold it back
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED';
      reject(
        new AtbridgeError('mqtt-connect-failed', refused ? `connection refused by ${host}:${port}` : `cannot reach ${host}:${port}: ${errorMessage(err)}`, {
          fix: refused ? 'is the broker running, and is -p the right port?' : 'check -h and the network',
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
  });
}
