/**
 * From a MosqConfig to a byte stream to the broker: TCP, a Unix socket, a SOCKS5 proxy, WebSocket,
 * TLS on top, directly or through the module (--device). The modem stack, ws and socks are loaded
 * only when asked for, so a plain `sub` starts fast.
 */
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { AtbridgeError, errorMessage } from '../../errors.js';
import type { ModemCliOptions } from '../../cli/modem-options.js';
import type { ModemSession } from '../../modem/session-types.js';
import type { TlsSettings } from '../tls.js';
import type { MosqConfig } from './mosq-args.js';

export interface Connector {
  connect: () => Promise<Duplex>;
  close: () => Promise<void>;
}

/** 1883, or 8883 when TLS is asked for by certificate files or a PSK (as mosquitto picks). */
export function brokerPort(cfg: MosqConfig): number {
  if (cfg.port !== undefined) return cfg.port;
  const t = cfg.tls;
  return t.cafile !== undefined || t.capath !== undefined || t.psk !== undefined ? 8883 : 1883;
}

/** TLS settings, or undefined for a plain connection. */
export function tlsSettings(cfg: MosqConfig): TlsSettings | undefined {
  const t = cfg.tls;
  if (t.noTls) return undefined;
  const port = brokerPort(cfg);
  const wanted = t.cafile !== undefined || t.capath !== undefined || t.psk !== undefined || t.useOsCerts || port === 8883;
  if (!wanted) return undefined;
  const settings: TlsSettings = {};
  if (t.cafile !== undefined) settings.cafile = t.cafile;
  if (t.capath !== undefined) settings.capath = t.capath;
  if (t.cert !== undefined) settings.cert = t.cert;
  if (t.key !== undefined) settings.key = t.key;
  if (t.insecure) settings.insecure = true;
  if (t.psk !== undefined && t.cafile === undefined && t.capath === undefined) settings.psk = { identity: t.pskIdentity ?? '', key: t.psk };
  return settings;
}

export function modemOptions(cfg: MosqConfig): ModemCliOptions | undefined {
  const m = cfg.modem;
  const device = m['--device'];
  if (typeof device !== 'string') return undefined;
  const s = (name: string) => (typeof m[name] === 'string' ? (m[name] as string) : undefined);
  const opts: ModemCliOptions = { device };
  const set = <K extends keyof ModemCliOptions>(key: K, value: ModemCliOptions[K] | undefined) => {
    if (value !== undefined) opts[key] = value;
  };
  set('profile', s('--profile'));
  set('baud', s('--baud'));
  set('setBaud', s('--set-baud') === undefined ? undefined : Number(s('--set-baud')));
  set('transparent', m['--transparent'] === true ? true : undefined);
  set('recvMode', s('--recv-mode'));
  set('apn', s('--apn'));
  set('pin', s('--pin'));
  set('wifiSsid', s('--wifi-ssid'));
  set('wifiPassword', s('--wifi-password'));
  set('trace', s('--trace'));
  return opts;
}

export function makeMosqConnector(cfg: MosqConfig, progress: (line: string) => void): Connector {
  const modem = modemOptions(cfg);
  const host = cfg.host;
  const port = brokerPort(cfg);
  const tls = tlsSettings(cfg);
  let session: ModemSession | undefined;
  let opening: Promise<ModemSession> | undefined;
  const secrets = [cfg.password, cfg.proxy?.password].filter((s): s is string => typeof s === 'string' && s.length > 0);

  const modemSession = (): Promise<ModemSession> => {
    opening ??= Promise.all([import('../../modem/session.js'), import('../../cli/modem-options.js')])
      .then(([{ openModemSession }, { modemSessionOptions }]) => openModemSession(modemSessionOptions(modem!, { secrets, onProgress: progress })))
      .then((s) => (session = s));
    opening.catch(() => (opening = undefined));
    return opening;
  };

  /** A TCP stream to host:port: from here, or opened by the module. */
  const tcp = async (toHost: string, toPort: number): Promise<Duplex> => {
    if (modem) {
      const s = await modemSession();
      progress(`opening TCP ${toHost}:${toPort} through the module`);
      return s.connect(toHost, toPort);
    }
    return tcpConnect(toHost, toPort, cfg.bindAddress);
  };

  const plain = async (): Promise<Duplex> => {
    if (cfg.unixPath !== undefined) return unixConnect(cfg.unixPath);
    if (cfg.proxy) {
      const proxied = await import('./socks5.js');
      const stream = await tcp(cfg.proxy.host, cfg.proxy.port);
      return proxied.socks5Handshake(stream, cfg.proxy, host, port);
    }
    return tcp(host, port);
  };

  return {
    async connect() {
      let stream = await plain();
      if (tls) {
        const { startTls } = await import('../tls.js');
        const keylog = cfg.tls.keylog;
        // --tls-keylog (2.1): the session keys in NSS key log format, for Wireshark; appended, one line each.
        const onKeylog = keylog === undefined ? undefined : (line: Buffer) => appendFileSync(keylog, line);
        const t = cfg.tls;
        const minVersion = ({ 'tlsv1.3': 'TLSv1.3', 'tlsv1.2': 'TLSv1.2', 'tlsv1.1': 'TLSv1.1' } as const)[t.tlsVersion as 'tlsv1.3'];
        const plainStream = stream;
        stream = await startTls(plainStream, {
          ...tls,
          servername: host,
          ...(onKeylog ? { onKeylog } : {}),
          ...(minVersion ? { minVersion } : {}),
          ...(t.ciphers !== undefined ? { ciphers: t.ciphers } : {}),
          ...(t.alpn !== undefined ? { alpn: t.alpn } : {}),
        }).catch((err: unknown) => {
          // A refused option (an unknown cipher) throws before the handshake: the socket under it must not linger.
          plainStream.destroy();
          throw err instanceof AtbridgeError ? err : new AtbridgeError('tls-failed', `TLS: ${errorMessage(err)}`, { cause: err });
        });
      }
      if (cfg.transport === 'ws') {
        const { websocketStream } = await import('./websocket.js');
        stream = await websocketStream(stream, { host, port, secure: tls !== undefined });
      }
      return stream;
    },
    async close() {
      const s = session;
      session = undefined;
      opening = undefined;
      if (s) await s.close();
    },
  };
}

function tcpConnect(host: string, port: number, localAddress: string | undefined): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(localAddress !== undefined ? { localAddress } : {}) });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => reject(connectError(err));
    socket.once('error', onError);
  });
}

function unixConnect(path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => reject(connectError(err));
    socket.once('error', onError);
  });
}

/** mosquitto prints strerror(errno): "Error: Connection refused". */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ENOENT: 'No such file or directory',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  EACCES: 'Permission denied',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOTFOUND: 'Temporary failure in name resolution',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

function connectError(err: NodeJS.ErrnoException): AtbridgeError {
  const text = STRERROR[err.code ?? ''] ?? errorMessage(err);
  return new AtbridgeError('mqtt-connect-failed', text, { cause: err });
}
