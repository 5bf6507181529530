export type LinkState = 'connecting' | 'up' | 'down' | 'stopped';

export interface FlowCounters {
  /** Messages taken from the source broker and handed on (queued or sent). */
  messages: number;
  /** Their payload bytes. */
  bytes: number;
  /** QoS 0 messages lost while offline, or queued ones dropped by the size/age bound. */
  dropped: number;
  /** QoS 2 messages the source broker sent again after releasing them (PUBREL): acknowledged, not forwarded twice. */
  qos2Resent: number;
}

/** The running numbers of one bridge; turned into the status JSON and the Prometheus text. */
export class BridgeStats {
  readonly startedAt = Date.now();
  readonly out: FlowCounters = { messages: 0, bytes: 0, dropped: 0, qos2Resent: 0 };
  readonly in: FlowCounters = { messages: 0, bytes: 0, dropped: 0, qos2Resent: 0 };
  /** Bytes on the remote connection itself (MQTT framing and TLS included). */
  readonly link = { rxBytes: 0, txBytes: 0, connects: 0 };
  linkState: LinkState = 'connecting';
  linkSince = Date.now();
  localConnected = false;
  lastError: { message: string; at: string } | undefined;

  setLink(state: LinkState): void {
    if (state === this.linkState) return;
    this.linkState = state;
    this.linkSince = Date.now();
  }

  noteError(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
  }
}

export interface QueueDepths {
  out: { messages: number; bytes: number; dropped: number };
  in: { messages: number; bytes: number; dropped: number };
}

export interface BridgeStatus {
  id: string;
  time: string;
  uptimeSeconds: number;
  link: { state: LinkState; sinceSeconds: number; remote: string; connects: number; rxBytes: number; txBytes: number };
  local: { connected: boolean };
  module: Record<string, unknown>;
  out: FlowCounters;
  in: FlowCounters;
  queue: QueueDepths;
  lastError: { message: string; at: string } | null;
}

export function buildStatus(id: string, remote: string, stats: BridgeStats, queue: QueueDepths, module: Record<string, unknown>): BridgeStatus {
  const now = Date.now();
  return {
    id,
    time: new Date(now).toISOString(),
    uptimeSeconds: Math.round((now - stats.startedAt) / 1000),
    link: {
      state: stats.linkState,
      sinceSeconds: Math.round((now - stats.linkSince) / 1000),
      remote,
      connects: stats.link.connects,
      rxBytes: stats.link.rxBytes,
      txBytes: stats.link.txBytes,
    },
    local: { connected: stats.localConnected },
    module: summarizeModule(module),
    out: { ...stats.out },
    in: { ...stats.in },
    queue,
    lastError: stats.lastError ?? null,
  };
}

/** The facts a person checks first: who the module is, how well it hears, where it is attached. */
function summarizeModule(facts: Record<string, unknown>): Record<string, unknown> {
  const pick = (key: string) => (facts[key] !== undefined ? { [key]: facts[key] } : {});
  const cellular = facts.cellular as { rssi?: number; operator?: string; registration?: Record<string, string>; ip?: string } | undefined;
  const wifi = facts.wifi as { ssid?: string; rssi?: number; ip?: string } | undefined;
  return {
    ...pick('state'),
    ...pick('profile'),
    ...pick('model'),
    ...pick('firmware'),
    ...pick('recoveries'),
    ...pick('line'),
    ...pick('lastError'),
    ...(facts.rssi !== undefined ? { rssi: facts.rssi } : cellular?.rssi !== undefined ? { rssi: cellular.rssi } : wifi?.rssi !== undefined ? { rssi: wifi.rssi } : {}),
    ...(cellular ? { operator: cellular.operator ?? null, registration: cellular.registration ?? null, ip: cellular.ip ?? null } : {}),
    ...(wifi ? { ssid: wifi.ssid ?? null, ip: wifi.ip ?? null } : {}),
  };
}
