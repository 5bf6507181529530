import { EventEmitter } from 'node:events';
import type { IPublishPacket, QoS } from 'mqtt-packet';
import { AtbridgeError, errorMessage } from '../errors.js';
import { MqttClient } from '../mqtt/client.js';
import { DurableQueue, type FsyncPolicy } from '../mqtt/durable-queue.js';
import type { QueuedMessage } from '../mqtt/outbound-queue.js';
import { Qos2Store } from '../mqtt/qos2-store.js';
import { DecorrelatedJitter, sleep } from './backoff.js';
import { BridgeStats, buildStatus, type BridgeStatus, type FlowCounters } from './health.js';
import { RemoteLink, tcpConnect } from './remote-link.js';
import { carriesIn, carriesOut, localFilter, remoteFilter, routeKey, toLocalTopic, toRemoteTopic, type Route } from './routes.js';
import { tapStream } from './stream-tap.js';

/** How the bridge's client presents itself to the remote broker. */
export interface RemoteSessionOptions {
  clientId: string;
  username?: string;
  password?: string;
  clean: boolean;
  keepalive: number;
  /** The TLS handshake, and then the CONNACK, may take this long before the attempt is made again (connect_timeout). */
  connectTimeoutMs?: number;
  protocolVersion: 4 | 5;
  tryPrivate: boolean;
}

export interface BridgeOptions {
  /** The connection name: in the status topic and default client ids. */
  id: string;
  local: { host: string; port: number; clientId: string; username?: string; password?: string };
  remote: RemoteSessionOptions;
  link: RemoteLink;
  routes: Route[];
  /** restart_timeout: base and cap in ms (cap undefined = constant wait). */
  restart: { baseMs: number; capMs: number | undefined };
  notifications: { enabled: boolean; topic: string };
  queue: { dir: string; maxMessages?: number; maxBytes?: number; maxAgeMs?: number; fsync: FsyncPolicy };
  status: { topic: string; intervalMs: number };
  log: (line: string) => void;
}

interface Side {
  name: 'local' | 'remote';
  client: MqttClient;
  queue: DurableQueue;
  /** Set before end(): from then on QoS≥1 messages go straight to the queue file for the next run. */
  closing: boolean;
  /** The incoming QoS 2 state of this side's session (received and released ids), kept on disk. */
  qos2: Qos2Store;
  /** Subscription identifier → route (MQTT 5), so overlapping routes each get their own copy. */
  routeOfSubscription: Map<number, Route>;
  nextSubscriptionId: number;
}

const DROP_LOG_EVERY_MS = 10_000;
/** How long a released QoS 2 id is kept for the resend guard: mosquitto's default autosave_interval (MqttClient's default). */
const RELEASED_QOS2_KEEP_MS = 30 * 60_000;

/**
 * mosquitto's bridge, with the remote side carried by the module. Each side is one MQTT client with
 * its own durable queue: a message taken from one broker is appended to the other side's queue
 * file inside the `message` event, so before the client acknowledges it (PUBACK / PUBREC are sent
 * after the handler returns) — what was acknowledged is on disk. Loops cannot form: every
 * subscription is "no local" (MQTT 5) or made as a bridge (try_private, 3.1.1), so a broker never
 * hands the bridge back what the bridge itself published there.
 */
export class Bridge extends EventEmitter<{ fatal: [error: AtbridgeError] }> {
  readonly stats = new BridgeStats();
  private routes: Route[] = [];
  private readonly local: Side;
  private readonly remote: Side;
  private readonly jitter: DecorrelatedJitter;
  private readonly shutdown = new AbortController();
  private remoteAttempts = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastDropLog = 0;

  constructor(private readonly options: BridgeOptions) {
    super();
    this.jitter = new DecorrelatedJitter(options.restart.baseMs, options.restart.capMs);
    const { queue, notifications } = options;
    const bounds = {
      ...(queue.maxMessages !== undefined ? { maxMessages: queue.maxMessages } : {}),
      ...(queue.maxBytes !== undefined ? { maxBytes: queue.maxBytes } : {}),
      ...(queue.maxAgeMs !== undefined ? { maxAgeMs: queue.maxAgeMs } : {}),
    };
    const outQueue = DurableQueue.open({ dir: `${queue.dir}/out`, fsync: queue.fsync, ...bounds });
    let inQueue: DurableQueue;
    let remoteQos2: Qos2Store;
    let localQos2: Qos2Store;
    try {
      inQueue = DurableQueue.open({ dir: `${queue.dir}/in`, fsync: queue.fsync, ...bounds });
    } catch (err) {
      outQueue.close();
      throw err;
    }
    // Beside the queues (whose LOCKs make this process their only owner); the received ids of an
    // older version (`*-qos2-received`, ids only) are taken over once.
    const qos2 = (name: string) => Qos2Store.open({ path: `${queue.dir}/${name}-qos2.state`, fsync: queue.fsync, keepMs: RELEASED_QOS2_KEEP_MS, legacyReceivedPath: `${queue.dir}/${name}-qos2-received` });
    try {
      remoteQos2 = qos2('remote');
      localQos2 = qos2('local');
    } catch (err) {
      outQueue.close();
      inQueue.close();
      throw err;
    }
    const will = notifications.enabled ? { topic: notifications.topic, payload: '0', qos: 1 as QoS, retain: true } : undefined;
    const { remote, local } = options;
    this.remote = side('remote', outQueue, remoteQos2, new MqttClient({
      connect: () => this.connectRemote(),
      protocolVersion: remote.protocolVersion,
      clientId: remote.clientId,
      ...(remote.username !== undefined ? { username: remote.username } : {}),
      ...(remote.password !== undefined ? { password: remote.password } : {}),
      keepalive: remote.keepalive,
      ...(remote.connectTimeoutMs !== undefined ? { connectTimeoutMs: remote.connectTimeoutMs } : {}),
      clean: remote.clean,
      ...(will ? { will } : {}),
      queue: outQueue,
      qos2State: remoteQos2,
      releasedQos2KeepMs: RELEASED_QOS2_KEEP_MS,
      // The wait between attempts is restart_timeout's, taken in connectRemote.
      reconnect: { baseMs: 0, capMs: 0, retryInitial: true },
    }));
    this.local = side('local', inQueue, localQos2, new MqttClient({
      connect: () => tcpConnect(local.host, local.port),
      // MQTT 5 for "no local" subscriptions and subscription identifiers (mosquitto ≥ 1.6).
      protocolVersion: 5,
      clientId: local.clientId,
      ...(local.username !== undefined ? { username: local.username } : {}),
      ...(local.password !== undefined ? { password: local.password } : {}),
      keepalive: 60,
      // Persistent: while the bridge restarts, the local broker keeps what arrives for it.
      clean: false,
      ...(will ? { will } : {}),
      queue: inQueue,
      qos2State: localQos2,
      releasedQos2KeepMs: RELEASED_QOS2_KEEP_MS,
      reconnect: { baseMs: 250, capMs: 5000, retryInitial: true },
    }));
    this.wireRemote();
    this.wireLocal();
    this.reportQos2Resends(this.remote);
    this.reportQos2Resends(this.local);
    this.routes = [];
    this.applyRoutes(options.routes);
  }

  get remoteLink(): RemoteLink {
    return this.options.link;
  }

  get routeList(): readonly Route[] {
    return this.routes;
  }

  /** Connects both sides (each keeps retrying on its own) and starts the status reports. */
  start(): void {
    this.local.client.start().catch((err: unknown) => this.fail(this.local, err));
    this.remote.client.start().catch((err: unknown) => this.fail(this.remote, err));
    if (this.options.status.intervalMs > 0) {
      this.statusTimer = setInterval(() => void this.publishStatus(), this.options.status.intervalMs);
    }
  }

  /** SIGHUP: the new topic list takes effect; subscriptions no longer wanted are dropped. */
  setRoutes(routes: Route[]): { added: number; removed: number } {
    return this.applyRoutes(routes);
  }

  /** The status JSON as published (also what --metrics renders). */
  async status(): Promise<BridgeStatus> {
    const module = await this.options.link.moduleStatus();
    const depth = (q: DurableQueue, c: FlowCounters) => ({ messages: q.size, bytes: q.stats().bytes, dropped: c.dropped });
    return buildStatus(this.options.id, this.options.link.description, this.stats, { out: depth(this.remote.queue, this.stats.out), in: depth(this.local.queue, this.stats.in) }, module);
  }

  /**
   * SIGTERM: lets the queues drain while the link is up (at most `drainMs`), says "0" on the
   * notification topic, and disconnects cleanly. What is still queued stays on disk for the next run.
   */
  async stop(drainMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline && this.remote.client.connected && this.local.client.connected && (this.remote.queue.size > 0 || this.local.queue.size > 0)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const { notifications } = this.options;
    if (notifications.enabled && this.remote.client.connected) {
      await withTimeout(this.remote.client.publish(notifications.topic, '0', { qos: 1, retain: true }), 3000);
    }
    this.remote.closing = true;
    this.shutdown.abort();
    await this.remote.client.end();
    this.stats.setLink('stopped');
    if (this.local.client.connected) {
      if (notifications.enabled) await withTimeout(this.local.client.publish(notifications.topic, '0', { qos: 1, retain: true }), 3000);
      await withTimeout(this.publishStatus(), 3000);
    }
    this.local.closing = true;
    await this.local.client.end();
    await this.options.link.close();
    this.remote.queue.close();
    this.local.queue.close();
    this.remote.qos2.close();
    this.local.qos2.close();
  }

  // --- wiring ---

  private wireRemote(): void {
    const { client } = this.remote;
    client.on('connect', (connack) => {
      this.stats.setLink('up');
      this.stats.link.connects++;
      this.jitter.reset();
      const resumed = connack.sessionPresent ? ' (session resumed)' : '';
      const queued = this.remote.queue.size > 0 ? `; sending ${this.remote.queue.size} queued message(s)` : '';
      this.options.log(`remote connected: ${this.options.link.description}${resumed}${queued}`);
      const { notifications } = this.options;
      if (notifications.enabled) {
        this.publish(this.remote, notifications.topic, Buffer.from('1'), 1, true, undefined);
        this.publish(this.local, notifications.topic, Buffer.from('1'), 1, true, undefined);
      }
      void this.publishStatus();
    });
    client.on('offline', (reason) => {
      this.stats.setLink('down');
      const why = reason ? `: ${reason.message}` : '';
      if (reason) this.stats.noteError(reason.message);
      this.options.log(`remote connection lost${why}; messages queue until it is back`);
      if (this.options.notifications.enabled && !this.stopping) {
        this.publish(this.local, this.options.notifications.topic, Buffer.from('0'), 1, true, undefined);
      }
      void this.publishStatus();
    });
    client.on('error', (error) => {
      if (this.stopping) return;
      this.stats.noteError(error.message);
      this.options.log(`remote: ${error.message}${error.fix ? ` (${error.fix})` : ''}`);
    });
    client.on('close', () => {
      if (!this.stopping) this.fail(this.remote, new AtbridgeError('remote-closed', 'the remote connection closed for good'));
    });
    client.on('message', (topic, payload, packet) => this.fromRemote(topic, payload, packet));
    this.remote.queue.on('drop', (entry: QueuedMessage, reason: string) => this.noteDrop(this.stats.out, entry, reason));
  }

  private wireLocal(): void {
    const { client } = this.local;
    // The local client retries quickly (0.25 s at first, up to 5 s) and reports each failed attempt,
    // so "cannot reach" came several times a second: each message is logged once per outage, and
    // the "connected" line says when it is over.
    const logged = new Set<string>();
    client.on('connect', (connack) => {
      logged.clear();
      this.stats.localConnected = true;
      this.options.log(`local broker connected: ${this.options.local.host}:${this.options.local.port}${connack.sessionPresent ? ' (session resumed)' : ''}`);
      if (this.options.notifications.enabled) {
        this.publish(this.local, this.options.notifications.topic, Buffer.from(this.remote.client.connected ? '1' : '0'), 1, true, undefined);
      }
      void this.publishStatus();
    });
    client.on('offline', (reason) => {
      this.stats.localConnected = false;
      if (reason) this.stats.noteError(`local: ${reason.message}`);
      // The same reason comes again as an error right after: it is said here.
      if (reason) logged.add(reason.message);
      this.options.log(`local broker connection lost${reason ? `: ${reason.message}` : ''}; reconnecting`);
    });
    client.on('error', (error) => {
      if (this.stopping || logged.has(error.message)) return;
      logged.add(error.message);
      this.options.log(`local: ${error.message}`);
    });
    client.on('close', () => {
      if (!this.stopping) this.fail(this.local, new AtbridgeError('local-closed', 'the local broker connection closed for good'));
    });
    client.on('message', (topic, payload, packet) => this.fromLocal(topic, payload, packet));
    this.local.queue.on('drop', (entry: QueuedMessage, reason: string) => this.noteDrop(this.stats.in, entry, reason));
  }

  private reportQos2Resends(from: Side): void {
    // The client answered it and did not deliver it (MqttClient.noteReleased says why): say so.
    from.client.on('qos2-resent-after-release', (packet) => {
      (from === this.remote ? this.stats.in : this.stats.out).qos2Resent++;
      this.options.log(
        `${from.name}: the broker sent QoS 2 message ${packet.messageId ?? '?'} on "${packet.topic}" again after releasing it (MQTT 3.1.1 §4.3.3 forbids it; mosquitto 2.0.11 does it when it restarts); acknowledged, not forwarded twice`,
      );
    });
  }

  private async connectRemote() {
    if (this.remoteAttempts++ > 0) {
      const ms = this.jitter.next();
      this.options.log(`connecting to the remote in ${(ms / 1000).toFixed(1)} s`);
      await sleep(ms, this.shutdown.signal);
    }
    if (!this.stats.localConnected || this.stats.linkState !== 'up') this.stats.setLink('connecting');
    const stream = await this.options.link.connect(this.options.remote.connectTimeoutMs !== undefined ? { handshakeTimeoutMs: this.options.remote.connectTimeoutMs } : {});
    const { link } = this.stats;
    return tapStream(stream, {
      onRead: (n) => (link.rxBytes += n),
      onWrite: (n) => (link.txBytes += n),
      markAsBridge: this.options.remote.protocolVersion === 4 && this.options.remote.tryPrivate,
    });
  }

  // --- forwarding ---

  private fromLocal(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const targets = new Set<string>();
    for (const route of this.routesFor(this.local, packet, (r) => carriesOut(r, topic))) targets.add(toRemoteTopic(route, topic));
    for (const remoteTopic of targets) this.publish(this.remote, remoteTopic, payload, packet.qos, packet.retain, this.stats.out);
  }

  private fromRemote(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const targets = new Set<string>();
    for (const route of this.routesFor(this.remote, packet, (r) => carriesIn(r, topic))) targets.add(toLocalTopic(route, topic));
    for (const localTopic of targets) this.publish(this.local, localTopic, payload, packet.qos, packet.retain, this.stats.in);
  }

  /** The routes a received copy belongs to: by its subscription identifiers, else the first that matches. */
  private routesFor(from: Side, packet: IPublishPacket, matches: (route: Route) => boolean): Route[] {
    const ids = packet.properties?.subscriptionIdentifier;
    const list = ids === undefined ? [] : Array.isArray(ids) ? ids : [ids];
    const byId = list.map((id) => from.routeOfSubscription.get(id)).filter((r): r is Route => r !== undefined && this.routes.includes(r) && matches(r));
    if (byId.length > 0) return byId;
    const first = this.routes.find(matches);
    return first ? [first] : [];
  }

  /**
   * Hands a message to a side. QoS≥1 is appended to that side's queue file synchronously (inside
   * publish(), or directly while the side is shutting down), so it is on disk before our caller's
   * message handler returns and the source broker is acknowledged.
   */
  private publish(to: Side, topic: string, payload: Buffer, qos: QoS, retain: boolean, counters: FlowCounters | undefined): void {
    if (counters) {
      counters.messages++;
      counters.bytes += payload.length;
    }
    if (to.closing) {
      if (qos > 0) to.queue.append({ topic, payload, qos: qos as 1 | 2, retain });
      else if (counters) counters.dropped++;
      return;
    }
    to.client.publish(topic, payload, { qos, retain }).catch((err: unknown) => {
      if (qos === 0 && counters) counters.dropped++;
      if (err instanceof AtbridgeError && (err.code === 'queue-dropped' || err.code === 'mqtt-closed')) return; // counted / kept on disk
      this.stats.noteError(errorMessage(err));
      this.options.log(`${to.name}: ${errorMessage(err)}`);
    });
  }

  private noteDrop(counters: FlowCounters, entry: QueuedMessage, reason: string): void {
    counters.dropped++;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.lastDropLog = now;
    this.options.log(`queue bound reached (${reason}): dropped the oldest message (to ${entry.topic}); ${counters.dropped} dropped so far`);
  }

  // --- subscriptions ---

  private applyRoutes(next: Route[]): { added: number; removed: number } {
    const nextKeys = new Set(next.map(routeKey));
    const oldKeys = new Set(this.routes.map(routeKey));
    const removed = this.routes.filter((r) => !nextKeys.has(routeKey(r)));
    const added = next.filter((r) => !oldKeys.has(routeKey(r)));
    this.routes = [...this.routes.filter((r) => nextKeys.has(routeKey(r))), ...added];
    const stillWanted = (side: Side, filter: string) =>
      this.routes.some((r) => (side === this.local ? r.direction !== 'in' && localFilter(r) === filter : r.direction !== 'out' && remoteFilter(r) === filter));
    for (const route of removed) {
      if (route.direction !== 'in' && !stillWanted(this.local, localFilter(route))) this.unsubscribe(this.local, localFilter(route));
      if (route.direction !== 'out' && !stillWanted(this.remote, remoteFilter(route))) this.unsubscribe(this.remote, remoteFilter(route));
    }
    for (const route of added) {
      if (route.direction !== 'in') this.subscribe(this.local, localFilter(route), route, true);
      if (route.direction !== 'out') this.subscribe(this.remote, remoteFilter(route), route, this.options.remote.protocolVersion === 5);
    }
    return { added: added.length, removed: removed.length };
  }

  private subscribe(to: Side, filter: string, route: Route, v5: boolean): void {
    const id = to.nextSubscriptionId++;
    if (v5) to.routeOfSubscription.set(id, route);
    // nl: never receive our own publications (no loops); rap: keep the retain flag as published;
    // rh 1: retained messages only for a new subscription, not again on every restart.
    const options = v5 ? { qos: route.qos, nl: true, rap: true, rh: 1, properties: { subscriptionIdentifier: id } } : { qos: route.qos };
    to.client.subscribe(filter, options).then(
      (granted) => {
        const code = granted[0] ?? 0x80;
        if (code >= 0x80) this.options.log(`${to.name} broker refused the subscription to ${filter} (code ${code})`);
      },
      (err: unknown) => {
        if (!this.stopping) this.options.log(`${to.name}: subscribing to ${filter} failed: ${errorMessage(err)}`);
      },
    );
  }

  private unsubscribe(from: Side, filter: string): void {
    from.client.unsubscribe(filter).catch((err: unknown) => this.options.log(`${from.name}: unsubscribing ${filter} failed: ${errorMessage(err)}`));
  }

  // --- health ---

  private async publishStatus(): Promise<void> {
    if (!this.local.client.connected || this.local.closing) return;
    const status = await this.status();
    this.local.client.publish(this.options.status.topic, JSON.stringify(status), { qos: 0, retain: true }).catch(() => undefined);
  }

  private fail(which: Side, err: unknown): void {
    if (this.stopping) return;
    const error = err instanceof AtbridgeError ? err : new AtbridgeError('bridge-failed', errorMessage(err));
    const hint =
      which === this.remote && error.code === 'mqtt-connect-refused' && this.options.remote.protocolVersion === 4 && this.options.remote.tryPrivate
        ? 'if the remote broker is not mosquitto, it may not accept bridge connections: set try_private false (or --try-private false)'
        : error.fix;
    this.emit('fatal', new AtbridgeError(error.code, `${which}: ${error.message}`, { exitCode: error.exitCode || 1, ...(hint ? { fix: hint } : {}) }));
  }
}

function side(name: 'local' | 'remote', queue: DurableQueue, qos2: Qos2Store, client: MqttClient): Side {
  return { name, client, queue, qos2, closing: false, routeOfSubscription: new Map(), nextSubscriptionId: 1 };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise.catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}
