import net from 'node:net';
import type { Duplex } from 'node:stream';
import { AtbridgeError, EndCode, errorMessage, isSessionOver } from '../errors.js';
import type { OpenedModemSession } from '../modem/session.js';
import type { ModemSessionOptions } from '../modem/session-types.js';
import { startTls, type TlsSettings } from '../mqtt/tls.js';

export interface RemoteLinkOptions {
  host: string;
  port: number;
  tls: TlsSettings | undefined;
  /** Through this module; without it the remote is reached directly from this host. */
  modem: ModemSessionOptions | undefined;
  log: (line: string) => void;
}

const STATUS_TIMEOUT_MS = 5000;
/** Fixes name the bridge's own keys (the flags are the same words with dashes). */
const BRIDGE_TLS_OPTIONS = {
  cafile: 'bridge_cafile or bridge_capath',
  insecure: 'bridge_insecure true',
  files: 'bridge_cafile/bridge_certfile/bridge_keyfile',
  psk: 'bridge_psk and bridge_identity',
};

/**
 * Opens byte streams to the remote broker through the module. One modem session serves every
 * reconnect; when its device vanished (USB unplugged: the link closed), the session is dropped and
 * the next connect opens the device again — by its /dev/serial/by-id name, which survives the
 * ttyUSB renumbering — failing (and so retried with backoff) until it is back.
 */
export class RemoteLink {
  private current: OpenedModemSession | undefined;
  private opening: Promise<OpenedModemSession> | undefined;
  private deviceMissingLogged = false;
  private closed = false;

  constructor(private readonly options: RemoteLinkOptions) {}

  /** The module session now in use (tests reach the emulator through it). */
  get session(): OpenedModemSession | undefined {
    return this.current;
  }

  get description(): string {
    const scheme = this.options.tls ? 'mqtts' : 'mqtt';
    const via = this.options.modem ? ` through ${this.options.modem.device.replace(/password=[^&]*/, 'password=***')}` : ' (direct)';
    return `${scheme}://${this.options.host}:${this.options.port}${via}`;
  }

  /** `handshakeTimeoutMs`: a TLS handshake still unfinished then is abandoned (the stream closed) and fails. */
  async connect(options: { handshakeTimeoutMs?: number } = {}): Promise<Duplex> {
    const { host, port, tls } = this.options;
    const stream = this.options.modem ? await this.throughModem() : await tcpConnect(host, port);
    if (!tls) return stream;
    const handshake = startTls(stream, { ...tls, servername: host, optionNames: BRIDGE_TLS_OPTIONS });
    const ms = options.handshakeTimeoutMs;
    if (ms === undefined) return handshake;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.destroy();
        reject(new AtbridgeError('mqtt-connect-timeout', `the TLS handshake with the broker was not done within ${ms / 1000} s (connect_timeout): abandoned, to be made again`));
      }, ms);
    });
    try {
      return await Promise.race([handshake, stalled]);
    } finally {
      clearTimeout(timer);
      // The handshake fails too once its stream is destroyed: that second rejection is already told.
      handshake.catch(() => undefined);
    }
  }

  /** Identity, signal, registration or AP of the module; {} when there is no session (yet). */
  async moduleStatus(): Promise<Record<string, unknown>> {
    const session = this.current;
    if (!session) return {};
    // A status read that fails or outlasts its bound (a noisy line makes reads slow) still reports
    // what is known without asking the module: the state and the line's damage counts.
    const known = (): Record<string, unknown> => ({ state: session.modem.state, line: session.modem.lineFacts() });
    const timeout = new Promise<Record<string, unknown>>((resolve) => setTimeout(() => resolve(known()), STATUS_TIMEOUT_MS).unref());
    return Promise.race([session.status().catch(known), timeout]);
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.current ?? (await this.opening?.catch(() => undefined));
    this.current = undefined;
    await session?.close();
  }

  private async throughModem(): Promise<Duplex> {
    const session = await this.openSession();
    try {
      return await session.connect(this.options.host, this.options.port);
    } catch (err) {
      // The device went away under the session (in whatever state it was: bring-up, ready, a
      // socket): drop it, so the next attempt opens the device again instead of asking a dead session.
      if (!session.alive || isSessionOver(err)) await this.drop(session);
      throw err;
    }
  }

  private async drop(session: OpenedModemSession): Promise<void> {
    if (this.current !== session) return;
    this.current = undefined;
    await session.close().catch(() => undefined);
    this.options.log(`the module's link closed (unplugged, reset?); opening ${this.options.modem!.device.replace(/password=[^&]*/, 'password=***')} again`);
  }

  private openSession(): Promise<OpenedModemSession> {
    if (this.closed) return Promise.reject(new AtbridgeError(EndCode.modemClosed, 'the bridge is stopping'));
    if (this.current?.alive) return Promise.resolve(this.current);
    if (this.current) void this.drop(this.current);
    this.opening ??= (async () => {
      const { openModemSession } = await import('../modem/session.js');
      try {
        const session = await openModemSession({ ...this.options.modem!, onProgress: (line) => this.options.log(`modem: ${line}`) });
        this.deviceMissingLogged = false;
        if (this.closed) {
          await session.close();
          throw new AtbridgeError(EndCode.modemClosed, 'the bridge is stopping');
        }
        this.current = session;
        return session;
      } catch (err) {
        if (!this.deviceMissingLogged && err instanceof AtbridgeError && err.code.startsWith('port-')) {
          this.deviceMissingLogged = true;
          this.options.log(`${errorMessage(err)}; retrying until the device is back`);
        }
        throw err;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }
}

export function tcpConnect(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => reject(new AtbridgeError('mqtt-connect-failed', `cannot reach ${host}:${port}: ${err.message}`, { cause: err }));
    socket.once('error', onError);
  });
}
