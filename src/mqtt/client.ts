import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type {
  IConnackPacket,
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  ISubscription,
  IUnsubscribePacket,
  Packet,
  QoS,
} from 'mqtt-packet';
import { AtbridgeError, errorMessage } from '../errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { defaultPingTimeoutMs, KeepAlive } from './keepalive.js';
import { PacketLink } from './packet-link.js';
import { connectPacket, publishPacket, type ConnectSettings, type ProtocolVersion, type WillOptions } from './packets.js';

export type { ConnectSettings, ProtocolVersion, WillOptions };
import { MemoryQueue, type OutboundQueue, type PublishProperties, type QueuedMessage } from './outbound-queue.js';
import { PacketIdAllocator } from './packet-ids.js';
import type { Qos2State } from './qos2-store.js';
import { connackRefused, reasonText } from './reasons.js';
import { assertFilter, assertPublishTopic } from './topic.js';

/** How the client reconnects after the connection is lost (capped exponential backoff with jitter). */
export interface ReconnectOptions extends BackoffOptions {
  /** Keep trying when the very first connection fails too (a gateway booting before its network). */
  retryInitial?: boolean;
}

/** Options of {@link MqttClient}; only `connect` is required. */
export interface MqttClientOptions extends ConnectSettings {
  /** Opens a fresh byte stream to the broker: a ModemSocket, net.Socket, TLS socket... */
  connect: () => Promise<Duplex>;
  /** 3 = MQTT 3.1, 4 = 3.1.1 (default), 5 = 5.0. */
  protocolVersion?: ProtocolVersion;
  clientId?: string;
  /** Seconds; 0 turns keepalive off. Default 60. */
  keepalive?: number;
  /** Wait for PINGRESP; default half the keepalive, at least 10 s. */
  pingTimeoutMs?: number;
  /** Wait for CONNACK after the stream is open; default 30 s. */
  connectTimeoutMs?: number;
  /** Most QoS≥1 messages sent and not yet acknowledged (also capped by the broker's receive maximum). Default 20. */
  inflight?: number;
  /** Where QoS≥1 messages wait until acknowledged; default in memory. Pass a DurableQueue to survive restarts. */
  queue?: OutboundQueue;
  /** Reconnect after a lost link with capped exponential backoff; default {baseMs: 1000, capMs: 60000}. */
  reconnect?: ReconnectOptions | false;
  /**
   * How long a released incoming QoS 2 message is remembered for the resend guard (see
   * `noteReleased`), ms; default 30 min (mosquitto's default autosave_interval: the oldest state a
   * restarted broker reloads). 0 turns the guard off.
   */
  releasedQos2KeepMs?: number;
  /**
   * Where the incoming QoS 2 state (ids received and not released; released ids for the resend
   * guard) is kept across restarts: a Qos2Store in the queue directory. Default in memory only, so
   * a `kill -9` forgets it. What it holds counts only when the broker says the session is present.
   */
  qos2State?: Qos2State;
}

/** Options of {@link MqttClient.publish}. */
export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

/** Options of {@link MqttClient.subscribe}. */
export interface SubscribeOptions {
  qos?: QoS;
  /** MQTT 5 subscription options. */
  nl?: boolean;
  rap?: boolean;
  rh?: number;
  properties?: ISubscribePacket['properties'];
}

/** Events an {@link MqttClient} emits. */
export interface ClientEvents {
  connect: [connack: IConnackPacket];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
  /** A connection was lost; the client will reconnect unless ended or reconnect is off. */
  offline: [reason: AtbridgeError | undefined];
  /** `reason`: why the last attempt or connection failed, when known. */
  reconnect: [attempt: number, delayMs: number, reason: AtbridgeError | undefined];
  /** Closed for good: ended, or a failure with reconnect off. */
  close: [];
  /** Only emitted when someone listens, so an unheard error never throws. */
  error: [error: AtbridgeError];
  packetsend: [packet: Packet];
  packetreceive: [packet: Packet];
  /**
   * A QoS 2 PUBLISH (DUP=1) the sender had already released, resent with the same id, topic and
   * payload: acknowledged as the protocol asks, not delivered again (see `onPublish`).
   */
  'qos2-resent-after-release': [packet: IPublishPacket];
}

type State = 'idle' | 'connecting' | 'connected' | 'waiting' | 'ending' | 'closed';

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

interface Request {
  packet: ISubscribePacket | IUnsubscribePacket;
  waiter: Pending<number[]>;
}

const SUSPECT_TAKEOVER_MS = 30_000;
const QOS0_BACKLOG = 1000;
/** Default of `releasedQos2KeepMs`: mosquitto's default autosave_interval (1800 s). */
const RELEASED_QOS2_KEEP_MS = 30 * 60_000;

/**
 * An MQTT 3.1 / 3.1.1 / 5 client over any Duplex. It owns the MQTT session (packet ids, QoS flows,
 * subscriptions), not the transport: `connect()` is called again for every reconnect. Every packet
 * is generated into one Buffer and written with one write(), because on a modem each write becomes
 * an AT+CIPSEND of its own.
 */
export class MqttClient extends EventEmitter<ClientEvents> {
  readonly protocolVersion: ProtocolVersion;
  readonly clientId: string;
  private readonly queue: OutboundQueue;
  private readonly reconnectOptions: ReconnectOptions | false;
  private readonly inflightLimit: number;
  private readonly keepaliveSeconds: number;
  private state: State = 'idle';
  private link: PacketLink | undefined;
  private keepAlive: KeepAlive | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private serverReceiveMaximum = 65535;
  private firstConnect: Pending<IConnackPacket> | undefined;
  private lastError: AtbridgeError | undefined;
  private connectedAt = 0;
  private quickDrops = 0;
  private endWaiters: (() => void)[] = [];
  /** Outgoing QoS≥1 flows by packet id → queue seq. */
  private readonly outgoing = new Map<number, number>();
  /** QoS≥1 publish() promises by queue seq. */
  private readonly publishWaiters = new Map<number, Pending<void>>();
  private readonly qos0Backlog: { packet: IPublishPacket; waiter: Pending<void> }[] = [];
  private readonly requests = new Map<number, Request>();
  /** Incoming QoS 2 ids received and not yet released (→ digest of topic and payload): a duplicate PUBLISH is not delivered twice. */
  private readonly incomingQos2 = new Map<number, number>();
  /**
   * Incoming QoS 2 ids released in this session (in this process, or an earlier one with `qos2State`): a table indexed by packet id (1..65535) holding the
   * message's digest and when it was released (0: none). Fixed size, 1 MiB, made at the first
   * release; an entry is cleared when the id carries a new message or the broker lost the session,
   * and counts for nothing after `releasedQos2KeepMs`.
   */
  private releasedQos2: { digest: Float64Array; at: Float64Array } | undefined;
  private readonly releasedQos2KeepMs: number;
  private readonly qos2State: Qos2State | undefined;
  /** Granted subscriptions, replayed when the broker lost the session. */
  readonly subscriptions = new Map<string, ISubscription>();
  private readonly ids: PacketIdAllocator;
  /** Ids a durable queue brought from an earlier run, reserved until the session is resumed. */
  private readonly storedIds = new Set<number>();

  constructor(private readonly options: MqttClientOptions) {
    super();
    this.protocolVersion = options.protocolVersion ?? 4;
    this.clientId = options.clientId ?? '';
    this.queue = options.queue ?? new MemoryQueue();
    this.reconnectOptions = options.reconnect === undefined ? { baseMs: 1000, capMs: 60_000 } : options.reconnect;
    this.inflightLimit = Math.max(1, options.inflight ?? 20);
    this.keepaliveSeconds = options.keepalive ?? 60;
    this.releasedQos2KeepMs = Math.max(0, options.releasedQos2KeepMs ?? RELEASED_QOS2_KEEP_MS);
    this.ids = new PacketIdAllocator((id) => this.outgoing.has(id) || this.requests.has(id) || this.storedIds.has(id));
    this.queue.on('drop', this.onQueueDrop);
    this.qos2State = options.qos2State;
    if (this.qos2State) {
      // Taken as it is; the first CONNACK drops it if the broker has no session for us.
      const { received, released } = this.qos2State.load();
      for (const [id, digest] of received) this.incomingQos2.set(id, digest);
      for (const [id, r] of released) this.noteReleased(id, r.digest, r.at);
    }
    for (const entry of this.queue.messages()) if (entry.packetId !== undefined) this.storedIds.add(entry.packetId);
    if (this.protocolVersion === 3 && Buffer.byteLength(this.clientId) > 23) {
      throw new AtbridgeError('mqtt-bad-client-id', `MQTT 3.1 allows client ids of at most 23 bytes, "${this.clientId}" is longer`, {
        fix: 'use a shorter -i, or -V 311 / -V 5',
      });
    }
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Messages waiting in the outbound queue (sent or not). */
  get queued(): number {
    return this.queue.size;
  }

  /** Connects; resolves with the first CONNACK, rejects if that first attempt fails (unless reconnect.retryInitial). */
  start(): Promise<IConnackPacket> {
    if (this.state !== 'idle') return Promise.reject(new AtbridgeError('mqtt-already-started', 'this MQTT client was already started'));
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      void this.openConnection();
    });
  }

  /** QoS 0 resolves when written; QoS 1/2 when the broker has acknowledged (PUBACK / PUBCOMP). */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<void> {
    try {
      assertPublishTopic(topic);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.state === 'ending' || this.state === 'closed') return Promise.reject(closedError());
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const qos = options.qos ?? 0;
    const retain = options.retain ?? false;
    if (qos === 0) {
      const packet: IPublishPacket = { cmd: 'publish', topic, payload: body, qos: 0, retain, dup: false };
      if (options.properties) packet.properties = options.properties;
      return new Promise((resolve, reject) => {
        if (this.state === 'connected') {
          this.send(packet, resolve);
          return;
        }
        this.qos0Backlog.push({ packet, waiter: { resolve, reject } });
        // QoS 0 promises nothing: while offline keep only the newest few, never grow without bound.
        if (this.qos0Backlog.length > QOS0_BACKLOG) {
          this.qos0Backlog.shift()?.waiter.reject(new AtbridgeError('queue-dropped', `offline with more than ${QOS0_BACKLOG} QoS 0 messages waiting; the oldest was dropped`));
        }
      });
    }
    const message: Parameters<OutboundQueue['append']>[0] = { topic, payload: body, qos, retain };
    if (options.properties) message.properties = options.properties;
    return new Promise((resolve, reject) => {
      const entry = this.queue.append(message);
      if (this.queue.get(entry.seq)) this.publishWaiters.set(entry.seq, { resolve, reject });
      else reject(new AtbridgeError('queue-dropped', 'the outbound queue is full; the message was dropped'));
      this.pump();
    });
  }

  /** Resolves with the granted QoS (or MQTT 5 reason code) per filter; 0x80 and above are refusals. */
  subscribe(filters: string | string[] | ISubscription[], options: SubscribeOptions = {}): Promise<number[]> {
    const list = (Array.isArray(filters) ? filters : [filters]).map((f): ISubscription => {
      if (typeof f !== 'string') return f;
      const sub: ISubscription = { topic: f, qos: options.qos ?? 0 };
      if (this.protocolVersion === 5) {
        if (options.nl !== undefined) sub.nl = options.nl;
        if (options.rap !== undefined) sub.rap = options.rap;
        if (options.rh !== undefined) sub.rh = options.rh;
      }
      return sub;
    });
    try {
      for (const sub of list) assertFilter(sub.topic);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const packet: ISubscribePacket = { cmd: 'subscribe', subscriptions: list, messageId: 0 };
    if (options.properties && this.protocolVersion === 5) packet.properties = options.properties;
    return this.request(packet);
  }

  /** Unsubscribes from the filters; resolves with the UNSUBACK reason codes (MQTT 5) or an empty list. */
  unsubscribe(filters: string | string[]): Promise<number[]> {
    const list = Array.isArray(filters) ? filters : [filters];
    try {
      for (const f of list) assertFilter(f);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.request({ cmd: 'unsubscribe', unsubscriptions: list, messageId: 0 });
  }

  /**
   * Ends the client: sends DISCONNECT (so the broker drops the will) and closes the stream.
   * `force` closes at once without DISCONNECT — the broker then publishes the will. Unacknowledged
   * QoS≥1 messages stay in the queue (on disk with a DurableQueue) and their promises reject.
   */
  async end(force = false): Promise<void> {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'ending';
    this.clearTimers();
    const link = this.link;
    if (link && !link.lost) {
      const closed = new Promise<void>((resolve) => this.endWaiters.push(resolve));
      if (force || !wasConnected) {
        link.destroy();
      } else {
        this.send({ cmd: 'disconnect' });
        link.end();
      }
      await closed;
    } else {
      this.finish();
    }
  }

  // --- connection lifecycle ---

  private async openConnection(): Promise<void> {
    this.state = 'connecting';
    let stream: Duplex;
    try {
      stream = await this.options.connect();
    } catch (err) {
      this.connectionLost(
        undefined,
        err instanceof AtbridgeError ? err : new AtbridgeError('mqtt-connect-failed', `cannot reach the broker: ${errorMessage(err)}`, { cause: err }),
      );
      return;
    }
    if (this.state !== 'connecting') {
      stream.destroy();
      return;
    }
    this.attach(stream);
    this.send(connectPacket(this.options, this.protocolVersion, this.clientId, this.keepaliveSeconds));
    const timeout = this.options.connectTimeoutMs ?? 30_000;
    this.connectTimer = setTimeout(() => {
      this.dropConnection(new AtbridgeError('mqtt-connect-timeout', `no CONNACK from the broker within ${timeout / 1000} s`));
    }, timeout);
  }

  private attach(stream: Duplex): void {
    const link = new PacketLink(stream, this.protocolVersion, this.options.maxPacketSize ?? 1024 * 1024);
    link.on('packet', (packet) => {
      this.emit('packetreceive', packet);
      this.onPacket(packet);
    });
    link.once('lost', (error) => this.connectionLost(link, error));
    this.link = link;
  }

  /** Closes the current link because of `error`; its `lost` event then runs connectionLost. */
  private dropConnection(error: AtbridgeError): void {
    this.link?.fail(error);
  }

  /** `link` is the one that died (undefined when the connect factory itself failed). */
  private connectionLost(link: PacketLink | undefined, error: AtbridgeError | undefined): void {
    if (link !== this.link) return; // a stale link from before a reconnect
    this.link = undefined;
    this.lastError = error;
    this.keepAlive?.stop();
    this.keepAlive = undefined;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const wasConnected = this.state === 'connected';
    if (this.state === 'ending' || this.state === 'closed') {
      this.finish();
      return;
    }
    if (wasConnected) {
      this.noteTakeoverSuspect(error);
      this.emit('offline', error);
    }
    if (error && this.listenerCount('error') > 0) this.emit('error', error);
    const permanent = error?.detail?.permanent === true;
    const reconnect = this.reconnectOptions;
    const retry = reconnect !== false && !permanent && (this.firstConnect === undefined || reconnect.retryInitial === true);
    if (!retry) {
      this.failFirstConnect(error ?? new AtbridgeError('mqtt-connection-lost', 'the broker closed the connection'));
      this.finish();
      return;
    }
    const delay = backoffDelay(this.attempt++, reconnect);
    this.state = 'waiting';
    this.emit('reconnect', this.attempt, delay, error);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openConnection();
    }, delay);
  }

  /**
   * Two clients with one client id knock each other off: each connect makes the broker close the
   * other. MQTT 5 says so (DISCONNECT 0x8E); 3.1.1 just closes, so three quick closes by the broker
   * in a row are reported as a probable clash.
   */
  private noteTakeoverSuspect(error: AtbridgeError | undefined): void {
    const quick = Date.now() - this.connectedAt < SUSPECT_TAKEOVER_MS && error === undefined;
    this.quickDrops = quick ? this.quickDrops + 1 : 0;
    if (this.quickDrops === 3 && this.listenerCount('error') > 0) {
      this.emit(
        'error',
        new AtbridgeError('client-id-conflict', `the broker keeps closing the connection of client id "${this.clientId}" right after accepting it`, {
          fix: 'another client probably uses the same client id; give each one its own -i',
        }),
      );
    }
  }

  private onConnack(packet: IConnackPacket): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const code = packet.reasonCode ?? packet.returnCode ?? 0;
    if (code !== 0) {
      const error = connackRefused(code, this.protocolVersion);
      this.dropConnection(error);
      return;
    }
    this.state = 'connected';
    this.attempt = 0;
    this.connectedAt = Date.now();
    this.serverReceiveMaximum = packet.properties?.receiveMaximum ?? 65535;
    const keepalive = packet.properties?.serverKeepAlive ?? this.keepaliveSeconds;
    if (keepalive > 0) {
      this.keepAlive = new KeepAlive(
        keepalive * 1000,
        this.options.pingTimeoutMs ?? defaultPingTimeoutMs(keepalive),
        () => this.send({ cmd: 'pingreq' }),
        (what) =>
          this.dropConnection(
            what === 'ping'
              ? new AtbridgeError('keepalive-timeout', 'no PINGRESP from the broker in time: the link is dead')
              : new AtbridgeError('keepalive-timeout', `nothing from the broker for ${Math.round(this.options.pingTimeoutMs ?? defaultPingTimeoutMs(keepalive)) / 1000} s while it owed an answer: the link is dead`),
          ),
        () => this.link?.receiving === true,
      );
      this.keepAlive.start();
    }
    this.resumeSession(packet.sessionPresent);
    const first = this.firstConnect;
    this.firstConnect = undefined;
    this.emit('connect', packet);
    first?.resolve(packet);
    this.flushQos0();
    this.pump();
  }

  /**
   * After CONNACK: with the session kept, resend every unfinished flow in its original order
   * (PUBLISH with DUP=1 and the same id, or PUBREL); without it, those ids mean nothing to the broker,
   * so the messages go out again as new, and granted subscriptions are renewed.
   */
  private resumeSession(sessionPresent: boolean): void {
    this.outgoing.clear();
    this.storedIds.clear(); // from here on every stored id is either in `outgoing` or forgotten
    if (!sessionPresent) {
      this.incomingQos2.clear();
      this.releasedQos2?.at.fill(0);
      this.qos2State?.clear();
    }
    for (const entry of this.queue.messages()) {
      if (entry.state === 'new' || entry.packetId === undefined) continue;
      if (!sessionPresent) {
        this.queue.markNew(entry.seq);
        continue;
      }
      this.outgoing.set(entry.packetId, entry.seq);
      if (entry.state === 'sent') this.send(publishPacket(entry, true, this.protocolVersion));
      else this.send({ cmd: 'pubrel', messageId: entry.packetId });
    }
    for (const request of this.requests.values()) this.send(request.packet); // unanswered SUBSCRIBE / UNSUBSCRIBE
    if (!sessionPresent && this.subscriptions.size > 0) {
      const waiter: Pending<number[]> = { resolve: () => {}, reject: () => {} };
      this.sendRequest({ cmd: 'subscribe', subscriptions: [...this.subscriptions.values()], messageId: 0 }, waiter);
    }
  }

  private failFirstConnect(error: AtbridgeError): void {
    const first = this.firstConnect;
    this.firstConnect = undefined;
    first?.reject(error);
  }

  /** Closed for good: every waiting promise learns it; the queue keeps its messages. */
  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.failFirstConnect(this.lastError ?? closedError());
    const error = closedError();
    for (const waiter of this.publishWaiters.values()) waiter.reject(error);
    this.publishWaiters.clear();
    for (const { waiter } of this.qos0Backlog.splice(0)) waiter.reject(error);
    for (const request of this.requests.values()) request.waiter.reject(error);
    this.requests.clear();
    this.queue.off('drop', this.onQueueDrop);
    for (const resolve of this.endWaiters.splice(0)) resolve();
    this.emit('close');
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.reconnectTimer = undefined;
    this.connectTimer = undefined;
    this.keepAlive?.stop();
  }

  // --- packets in ---

  private onPacket(packet: Packet): void {
    this.keepAlive?.received(ANSWERS.has(packet.cmd));
    switch (packet.cmd) {
      case 'connack':
        this.onConnack(packet);
        return;
      case 'publish':
        this.onPublish(packet);
        return;
      case 'puback':
      case 'pubcomp':
        this.finishFlow(packet.messageId, packet.reasonCode);
        return;
      case 'pubrec': {
        const id = packet.messageId ?? 0;
        const seq = this.outgoing.get(id);
        if ((packet.reasonCode ?? 0) >= 0x80) {
          this.finishFlow(id, packet.reasonCode);
          return;
        }
        if (seq !== undefined) this.queue.markReleased(seq);
        this.send({ cmd: 'pubrel', messageId: id }); // also for an unknown id, as the spec asks
        return;
      }
      case 'pubrel': {
        const id = packet.messageId ?? 0;
        const digest = this.incomingQos2.get(id);
        this.incomingQos2.delete(id);
        if (digest !== undefined) {
          const at = Date.now();
          this.noteReleased(id, digest, at);
          // On disk before the PUBCOMP: after it the broker may forget the id, we must not.
          this.qos2State?.released(id, digest, at);
          this.qos2State?.sync();
        }
        this.send({ cmd: 'pubcomp', messageId: id });
        return;
      }
      case 'suback':
      case 'unsuback':
        this.onRequestAck(packet.messageId ?? 0, (packet.granted ?? []) as number[], packet.cmd === 'unsuback');
        return;
      case 'pingresp':
        this.keepAlive?.pong();
        return;
      case 'disconnect': {
        const code = packet.reasonCode ?? 0;
        const takeover = code === 0x8e;
        this.dropConnection(
          new AtbridgeError(takeover ? 'client-id-conflict' : 'mqtt-disconnected', `the broker disconnected: ${reasonText(code, 5)}`, {
            fix: takeover ? 'another client connected with the same client id; give each one its own -i' : undefined,
            detail: { reasonCode: code },
          }),
        );
        return;
      }
      default:
        return;
    }
  }

  private onPublish(packet: IPublishPacket): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const id = packet.messageId ?? 0;
    if (packet.qos === 2) {
      if (!this.incomingQos2.has(id)) {
        const digest = messageDigest(packet.topic, payload);
        const released = this.releasedQos2;
        const at = released?.at[id] ?? 0;
        const resent = packet.dup && at > 0 && released!.digest[id] === digest && Date.now() - at <= this.releasedQos2KeepMs;
        if (released) released.at[id] = 0; // the id is in use again: a later release notes it anew
        this.incomingQos2.set(id, digest);
        // Noted before delivery (a bridge appends it to its queue in the handler), on disk before the PUBREC.
        this.qos2State?.received(id, digest);
        if (resent) this.emit('qos2-resent-after-release', packet);
        else this.emit('message', packet.topic, payload, packet);
        this.qos2State?.sync();
      }
      this.send({ cmd: 'pubrec', messageId: id });
      return;
    }
    this.emit('message', packet.topic, payload, packet);
    if (packet.qos === 1) this.send({ cmd: 'puback', messageId: id });
  }

  /**
   * Remembers a released incoming QoS 2 id with its message's digest, for the guard in onPublish.
   *
   * MQTT 3.1.1 §4.3.3 (and 5.0 §4.3.3), the sender of a QoS 2 message "MUST NOT re-send the
   * PUBLISH once it has sent the corresponding PUBREL packet" [MQTT-4.3.3-1]; it resends the PUBREL.
   * mosquitto 2.0.11 breaks this when it restarts (persistence on, `max_inflight_messages 0`) after
   * sending a PUBREL whose PUBCOMP it never got: it resends the PUBLISH, DUP=1, same id. The receiver
   * rule, "After it has sent a PUBCOMP, the receiver MUST treat any subsequent PUBLISH packet that
   * contains that Packet Identifier as being a new publication" [MQTT-4.3.3-2], then turns that
   * resend into a second delivery of a message QoS 2 promises "exactly once".
   *
   * It resends every such message its session holds, and on a slow module link that can be many: a
   * soak run on the emulated ESP8266 had 131 at once, where this guard, then kept to the last 128
   * releases, held back 128 and let 3 through twice.
   *
   * So a PUBLISH with DUP=1 (a re-delivery attempt, [MQTT-3.3.1-1]) whose id was released in this
   * session (kept across a restart of the process with `qos2State`) and whose topic and payload are the released message's is taken for that resend:
   * answered as any PUBLISH (PUBREC, then PUBCOMP for the PUBREL), but not delivered again. Every
   * released id is kept, not a window of the last N: the broker resends whatever its session still
   * holds, however many that is, and packet ids (1..65535) bound the table. An entry leaves when the
   * broker can no longer resend it: the id carries a new message (the broker reused it, so it
   * forgot the old one), the broker lost the session (CONNACK without session present), or
   * `releasedQos2KeepMs` passed (by then a restarted mosquitto reloads a state saved after our
   * PUBCOMP). Anything else with that id is a new publication and delivered: DUP=0 (a first
   * attempt), or other content, or after the session was lost. What this gives up: a new message
   * that reuses the id (a broker that hands out the lowest free id), carries the very same topic and
   * payload as the one before it, and whose first attempt was lost to a reconnect, would not be
   * delivered. mosquitto counts its ids up, so an id comes back only after 65,535 others.
   */
  private noteReleased(id: number, digest: number, at: number): void {
    if (this.releasedQos2KeepMs === 0 || id < 1 || id > 65535) return;
    this.releasedQos2 ??= { digest: new Float64Array(65536), at: new Float64Array(65536) };
    this.releasedQos2.digest[id] = digest;
    this.releasedQos2.at[id] = at;
  }

  private finishFlow(messageId: number | undefined, reasonCode: number | undefined): void {
    const id = messageId ?? 0;
    const seq = this.outgoing.get(id);
    if (seq === undefined) return;
    this.outgoing.delete(id);
    const entry = this.queue.get(seq);
    this.queue.ack(seq);
    const waiter = this.publishWaiters.get(seq);
    this.publishWaiters.delete(seq);
    if ((reasonCode ?? 0) >= 0x80) {
      waiter?.reject(
        new AtbridgeError('mqtt-publish-refused', `the broker refused the message on "${entry?.topic ?? '?'}": ${reasonText(reasonCode ?? 0x80, 5)}`, {
          detail: { reasonCode },
        }),
      );
    } else {
      waiter?.resolve();
    }
    this.pump();
  }

  private onRequestAck(messageId: number, granted: number[], unsubscribe: boolean): void {
    const request = this.requests.get(messageId);
    if (!request) return;
    this.requests.delete(messageId);
    const packet = request.packet;
    if (unsubscribe && packet.cmd === 'unsubscribe') {
      for (const topic of packet.unsubscriptions) this.subscriptions.delete(topic);
    } else if (packet.cmd === 'subscribe') {
      packet.subscriptions.forEach((sub, i) => {
        if ((granted[i] ?? 0x80) < 0x80) this.subscriptions.set(sub.topic, sub);
      });
    }
    request.waiter.resolve(granted);
  }

  // --- packets out ---

  /** Sends as many queued QoS≥1 messages as the in-flight window allows, oldest first. */
  private pump(): void {
    if (this.state !== 'connected') return;
    const window = Math.min(this.inflightLimit, this.serverReceiveMaximum);
    if (this.outgoing.size >= window) return;
    for (const entry of this.queue.messages()) {
      if (this.outgoing.size >= window) break;
      if (entry.state !== 'new') continue;
      const id = this.ids.allocate();
      this.queue.markSent(entry.seq, id);
      this.outgoing.set(id, entry.seq);
      this.send(publishPacket(entry, false, this.protocolVersion));
    }
  }

  private flushQos0(): void {
    for (const { packet, waiter } of this.qos0Backlog.splice(0)) this.send(packet, waiter.resolve);
  }

  private request(packet: ISubscribePacket | IUnsubscribePacket): Promise<number[]> {
    if (this.state === 'ending' || this.state === 'closed') return Promise.reject(closedError());
    return new Promise((resolve, reject) => this.sendRequest(packet, { resolve, reject }));
  }

  private sendRequest(packet: ISubscribePacket | IUnsubscribePacket, waiter: Pending<number[]>): void {
    packet.messageId = this.ids.allocate();
    this.requests.set(packet.messageId, { packet, waiter });
    if (this.state === 'connected') this.send(packet);
  }

  private send(packet: Packet, written?: () => void): void {
    // A packet the broker must answer starts the keepalive's answer wait once it is written.
    const keepAlive = owesAnswer(packet) ? this.keepAlive : undefined;
    const done = keepAlive
      ? () => {
          keepAlive.written();
          written?.();
        }
      : written;
    if (this.link?.send(packet, done)) this.emit('packetsend', packet);
  }

  private readonly onQueueDrop = (entry: QueuedMessage) => {
    const waiter = this.publishWaiters.get(entry.seq);
    this.publishWaiters.delete(entry.seq);
    waiter?.reject(new AtbridgeError('queue-dropped', `the outbound queue is full; a message to "${entry.topic}" was dropped`));
  };
}

/** Packets from the broker that answer one of ours. */
const ANSWERS: ReadonlySet<Packet['cmd']> = new Set(['puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback']);

/** Packets the broker must answer (PINGREQ has its own deadline). */
function owesAnswer(packet: Packet): boolean {
  switch (packet.cmd) {
    case 'publish':
      return packet.qos > 0;
    case 'pubrec':
    case 'pubrel':
    case 'subscribe':
    case 'unsubscribe':
      return true;
    default:
      return false;
  }
}

/** Topic and payload, hashed (48 bits of a SHA-256, an exact number): what tells a resent QoS 2 message from a new one with its id. */
function messageDigest(topic: string, payload: Buffer): number {
  return createHash('sha256').update(topic).update('\0').update(payload).digest().readUIntBE(0, 6);
}

function closedError(): AtbridgeError {
  return new AtbridgeError('mqtt-closed', 'the MQTT client is closed');
}
