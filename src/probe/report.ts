import type { LiveFigures } from './run-latency.js';
import type { ProbeResult } from './result.js';
import type { Distribution } from './stats.js';

export function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 100) return `${n.toFixed(0)} ms`;
  return `${n.toFixed(1)} ms`;
}

function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : `${(n * 100).toFixed(0)}%`;
}

/** The live line: sent, received, lost so far, p50/p99 over the last second, arrivals a second, line use. */
export function liveLine(f: LiveFigures): string {
  const parts = [
    `${f.elapsedS.toFixed(0).padStart(4)} s`,
    `sent ${f.sent}`,
    `received ${f.received}`,
    `missing ${f.missing}`,
    `p50 ${ms(f.p50)}`,
    `p99 ${ms(f.p99)}`,
    `${f.arrivalRate.toFixed(1)} msg/s`,
  ];
  if (f.lineUse !== undefined) parts.push(`line ${pct(f.lineUse)}`);
  if (!f.connected) parts.push('OFFLINE');
  return parts.join('  ');
}

function dist(d: Distribution | undefined): string {
  if (!d) return '-';
  return `p50 ${ms(d.p50)}  p90 ${ms(d.p90)}  p99 ${ms(d.p99)}  max ${ms(d.max)}  (min ${ms(d.min)}, n=${d.count})`;
}

function describeModule(s: Record<string, unknown> | null | undefined): string {
  if (!s) return 'unknown';
  const where = (s.cellular ?? s.wifi) as Record<string, unknown> | undefined;
  const parts: string[] = [];
  if (s.model) parts.push(String(s.model));
  if (where?.rssi !== undefined) parts.push(`rssi ${String(where.rssi)}`);
  if (where?.operator) parts.push(`operator ${String(where.operator)}`);
  if (where?.ssid) parts.push(`ssid ${String(where.ssid)}`);
  const reg = where?.registration as Record<string, string> | undefined;
  if (reg) parts.push(`registration ${Object.entries(reg).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (s.state) parts.push(`state ${String(s.state)}`);
  return parts.join(', ') || 'unknown';
}

/** The summary after a run. */
export function summary(r: ProbeResult): string {
  const lines: string[] = [];
  const how = r.mode === 'module' ? `through the module, received by ${r.receiver === 'direct' ? 'a direct client' : 'its own subscription'}` : r.mode === 'direct' ? 'direct' : `${r.clients} clients`;
  lines.push(`probe ${how}: ${r.sent} sent at ${r.rate} msg/s${r.mode === 'load' ? ' each' : ''}, ${r.size}-byte payloads, QoS ${r.qos.join('/')}, topic ${r.topic}`);
  lines.push(`  delay       ${dist(r.delay)}`);
  lines.push(`  rates       sent ${r.sendRate.toFixed(1)} msg/s, arrived ${r.arrivalRate.toFixed(1)} msg/s; ${r.received} received, ${r.lost} lost, ${r.duplicates} duplicates in ${r.elapsedSeconds.toFixed(1)} s`);
  for (const q of r.perQos) {
    const ack = q.qos === 0 ? '' : `; ${q.qos === 1 ? 'PUBACK' : 'PUBCOMP'} ${dist(q.ack)}`;
    lines.push(`  QoS ${q.qos}       sent ${q.sent}, received ${q.received}, lost ${q.lost}, duplicates ${q.duplicates}${q.failed ? `, failed ${q.failed}` : ''}${ack}`);
  }
  if (r.serial) {
    const per = r.serial.perMessage;
    lines.push(
      `  serial      ${r.serial.txBytes} bytes to the module, ${r.serial.rxBytes} from it` +
        (per ? ` (${per.tx.toFixed(0)} + ${per.rx.toFixed(0)} = ${per.total.toFixed(0)} a message)` : '') +
        `; line use ${pct(r.serial.lineUse.tx)} out, ${pct(r.serial.lineUse.rx)} in at ${r.serial.baud ?? '?'} baud`,
    );
  }
  if (r.module) {
    lines.push(`  module      before: ${describeModule(r.module.before)}; after: ${describeModule(r.module.after)}`);
    const rssi = r.module.during.map((d) => d.rssi).filter((v): v is number => v !== undefined);
    if (r.module.during.length > 0) {
      const networks = [...new Set(r.module.during.map((d) => d.operator ?? d.ssid).filter((n): n is string => n !== undefined))];
      lines.push(`  signal      ${r.module.during.length} reads while sending: rssi ${rssi.length ? `${Math.min(...rssi)}..${Math.max(...rssi)}` : 'not read'}${networks.length ? `; ${networks.join(' → ')}` : ''}`);
    }
  }
  for (const o of r.outages) {
    lines.push(`  outage      at ${o.atS.toFixed(1)} s (${o.reason}); ${o.recoveredAfterS === null ? 'not back by the end' : `back after ${o.recoveredAfterS.toFixed(1)} s`}`);
  }
  if (r.load) {
    const l = r.load;
    lines.push(`  connect     ${l.connected}/${r.clients} connected at ${l.connectRate}/s; CONNACK ${dist(l.connack)}`);
    lines.push(`  tcp         ${dist(l.tcpConnect)}`);
    lines.push(`  throughput  ${l.publishThroughput.toFixed(1)} publishes/s completed`);
    const failures = Object.entries(l.failures);
    lines.push(`  failures    ${failures.length === 0 ? 'none' : failures.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    lines.push(`  process     CPU ${l.process.cpuPercent.toFixed(0)}% (user ${l.process.userCpuS.toFixed(2)} s, system ${l.process.systemCpuS.toFixed(2)} s), peak RSS ${l.process.peakRssMiB.toFixed(0)} MiB, heap ${l.process.peakHeapMiB.toFixed(0)} MiB`);
  } else if (r.connect) {
    lines.push(`  connect     stream open ${dist(r.connect)}`);
  }
  return lines.join('\n');
}
