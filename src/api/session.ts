import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { AtbridgeError } from '../errors.js';
import type { CellularFacts } from '../modem/attach.js';
import type { WifiFacts } from '../modem/join.js';
import type { ModemFacts } from '../modem/modem.js';
import { openModemSession as openInternal, type OpenedModemSession } from '../modem/session.js';
import type { ModemSessionOptions } from '../modem/session-types.js';
import type { ModemState, Transition } from '../modem/states.js';

export type { CellularFacts, ModemFacts, ModemSessionOptions, ModemState, Transition, WifiFacts };

/** What {@link ModemSession.status} reports: the state machine's state and the facts gathered so far. */
export interface ModemStatus extends ModemFacts {
  /** The driver's current state (`ready`, `socket-command`, `recovering`, …). */
  state: ModemState;
}

/** Events a {@link ModemSession} emits. */
export interface ModemSessionEvents {
  /** Each state-machine transition, with the reason (`OK to AT at 115200`, `RDY mid-session`…). */
  state: [transition: Transition];
  /**
   * A fault under the session (module rebooted, network lost, link closed). The open socket
   * fails with the same error; the next `connect()` brings the module up again.
   */
  fault: [error: AtbridgeError];
}

/**
 * A module brought up and ready to open TCP connections through its own TCP/IP stack.
 * Created by {@link openModemSession}.
 */
export interface ModemSession extends EventEmitter<ModemSessionEvents> {
  /** Profile id in use (after `profile: 'auto'` identification). */
  readonly profileId: string;
  /**
   * Opens a TCP connection through the module. The result is a `net.Socket`-like Duplex
   * (`connect`, `data`, `end`, `close`, `error`, backpressure, `setTimeout`), usable under
   * `tls.connect({ socket })` and MQTT.js.
   */
  connect(host: string, port: number): Promise<Duplex>;
  /** Identity, signal, registration or Wi-Fi, and counters; polls the module when it is idle. */
  status(): Promise<ModemStatus>;
  /** Closes the socket (if open), then the session and the device. Idempotent. */
  close(): Promise<void>;
}

/** Tuning that tests and impatient programs may want; the defaults suit real modules. */
export interface ModemSessionTuning {
  /** How long to wait for network registration (default 120 s). */
  registrationTimeoutMs?: number;
  /** Bring-up attempts before `connect()` gives up (default 5). */
  attempts?: number;
}

/**
 * Opens the device (a serial path, `tcp://host:port`, or `emu:<family>?options` for the
 * built-in emulator), brings the module up (baud, sync, identify, init, attach or join) and
 * resolves with the session. Rejects with an {@link AtbridgeError} whose `code` says why
 * (`sim-missing`, `port-busy`, `no-response` …) and whose `fix` says what to do.
 *
 * @example
 * ```ts
 * const session = await openModemSession({ device: '/dev/ttyUSB2', apn: 'internet' });
 * const socket = await session.connect('broker.example.com', 1883);
 * ```
 */
export async function openModemSession(options: ModemSessionOptions, tuning: ModemSessionTuning = {}): Promise<ModemSession> {
  return new Session(await openInternal(options, tuning));
}

/** The public face of the driver's session: its events re-emitted, its status typed. */
class Session extends EventEmitter<ModemSessionEvents> implements ModemSession {
  private readonly inner: OpenedModemSession;
  private readonly onState = (t: Transition) => this.emit('state', t);
  private readonly onFault = (err: AtbridgeError) => this.emit('fault', err);

  constructor(inner: OpenedModemSession) {
    super();
    this.inner = inner;
    inner.modem.on('state', this.onState);
    inner.modem.on('fault', this.onFault);
  }

  get profileId(): string {
    return this.inner.profileId;
  }

  connect(host: string, port: number): Promise<Duplex> {
    return this.inner.connect(host, port);
  }

  async status(): Promise<ModemStatus> {
    return (await this.inner.status()) as unknown as ModemStatus;
  }

  async close(): Promise<void> {
    this.inner.modem.off('state', this.onState);
    this.inner.modem.off('fault', this.onFault);
    await this.inner.close();
  }
}
