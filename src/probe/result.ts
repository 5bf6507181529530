import type { Distribution, HistogramBin } from './stats.js';
import type { DelayPoint, QosFigures } from './tracker.js';

export interface Outage {
  /** When the connection was lost, seconds since the first send. */
  atS: number;
  /** How long until it was back; null when it did not come back during the run. */
  recoveredAfterS: number | null;
  reason: string;
}

/** What `--json` prints and the summary, the JTL and the HTML page are made from. */
export interface ProbeResult {
  mode: 'module' | 'direct' | 'load';
  receiver: 'module-subscription' | 'direct' | 'own-subscription';
  topic: string;
  runId: string;
  qos: number[];
  size: number;
  /** Messages a second (per client in load runs). */
  rate: number;
  startedAt: string;
  /** From the first send to the last. */
  sendSeconds: number;
  /** From the first send to the end of the wait for stragglers. */
  elapsedSeconds: number;
  clients: number;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  sendRate: number;
  /** Messages received a second, from the first send to the last arrival. */
  arrivalRate: number;
  delay: Distribution | undefined;
  perQos: QosFigures[];
  /** Stream open to CONNACK... as measured per client: here the stream's open time (TCP, or the module's socket). */
  connect: Distribution | undefined;
  outages: Outage[];
  histogram: HistogramBin[];
  timeline: DelayPoint[];
  serial?: {
    baud: number | null;
    txBytes: number;
    rxBytes: number;
    perMessage: { tx: number; rx: number; total: number } | null;
    /** Share of the line's capacity, 8N1. */
    lineUse: { tx: number | null; rx: number | null };
  };
  module?: {
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    /** Readings while sending (--signal-every), t in seconds since the first send. */
    during: ModuleReading[];
  };
  load?: LoadFigures;
}

export interface LoadFigures {
  connectRate: number;
  connected: number;
  /** Stream open to CONNACK, ms. */
  connack: Distribution | undefined;
  /** TCP connect, ms. */
  tcpConnect: Distribution | undefined;
  /** Publishes completed a second (QoS 0 written, QoS 1/2 acknowledged). */
  publishThroughput: number;
  failures: Record<string, number>;
  process: { cpuPercent: number; userCpuS: number; systemCpuS: number; peakRssMiB: number; peakHeapMiB: number };
}

/** One reading of the module's radio or Wi-Fi link. */
export interface ModuleReading {
  t: number;
  state?: string;
  rssi?: number;
  operator?: string;
  ssid?: string;
}

/** The radio part of a session's status(), flattened (registration is not re-read by status(), so it is left out). */
export function moduleReading(status: Record<string, unknown>): Omit<ModuleReading, 't'> {
  const where = (status.cellular ?? status.wifi) as Record<string, unknown> | undefined;
  const out: Omit<ModuleReading, 't'> = {};
  if (typeof status.state === 'string') out.state = status.state;
  if (typeof where?.rssi === 'number') out.rssi = where.rssi;
  if (typeof where?.operator === 'string') out.operator = where.operator;
  if (typeof where?.ssid === 'string') out.ssid = where.ssid;
  return out;
}
