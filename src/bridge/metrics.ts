import http from 'node:http';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { BridgeStatus } from './health.js';

/** The status numbers in the Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(status: BridgeStatus): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [labels: string, value: number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const dir = (d: 'out' | 'in') => `{direction="${d}"}`;
  metric('atbridge_link_up', 'gauge', 'Remote broker connected through the module (1) or not (0).', [['', status.link.state === 'up' ? 1 : 0]]);
  metric('atbridge_local_up', 'gauge', 'Local broker connected (1) or not (0).', [['', status.local.connected ? 1 : 0]]);
  metric('atbridge_link_connects_total', 'counter', 'Connections made to the remote broker.', [['', status.link.connects]]);
  metric('atbridge_link_bytes_total', 'counter', 'Bytes on the remote connection (rx = from the remote).', [
    ['{direction="rx"}', status.link.rxBytes],
    ['{direction="tx"}', status.link.txBytes],
  ]);
  metric('atbridge_messages_total', 'counter', 'Messages bridged (out = local to remote).', [[dir('out'), status.out.messages], [dir('in'), status.in.messages]]);
  metric('atbridge_payload_bytes_total', 'counter', 'Payload bytes bridged.', [[dir('out'), status.out.bytes], [dir('in'), status.in.bytes]]);
  metric('atbridge_messages_dropped_total', 'counter', 'Messages dropped (queue bound or QoS 0 while offline).', [
    [dir('out'), status.out.dropped],
    [dir('in'), status.in.dropped],
  ]);
  metric('atbridge_qos2_resent_total', 'counter', 'QoS 2 messages the source broker resent after releasing them (MQTT 3.1.1 4.3.3 forbids it), not forwarded again.', [
    [dir('out'), status.out.qos2Resent],
    [dir('in'), status.in.qos2Resent],
  ]);
  metric('atbridge_queue_messages', 'gauge', 'Messages waiting in the durable queue.', [[dir('out'), status.queue.out.messages], [dir('in'), status.queue.in.messages]]);
  metric('atbridge_queue_bytes', 'gauge', 'Bytes waiting in the durable queue.', [[dir('out'), status.queue.out.bytes], [dir('in'), status.queue.in.bytes]]);
  const rssi = status.module.rssi;
  if (typeof rssi === 'number') metric('atbridge_module_rssi', 'gauge', 'Signal as the module reports it (CSQ 0-31 cellular, dBm Wi-Fi).', [['', rssi]]);
  const recoveries = status.module.recoveries;
  if (typeof recoveries === 'number') metric('atbridge_module_recoveries_total', 'counter', 'Times the module was brought back after a fault.', [['', recoveries]]);
  const line = status.module.line as { lines?: number; garbled?: number; recentRate?: number; baudFallbacks?: number } | undefined;
  if (line && typeof line.lines === 'number') {
    metric('atbridge_line_lines_total', 'counter', 'Lines heard from the module (this session).', [['', line.lines]]);
    metric('atbridge_line_garbled_total', 'counter', 'Lines from the module that looked damaged on the wire (this session).', [['', line.garbled ?? 0]]);
    metric('atbridge_line_corruption_ratio', 'gauge', 'Share of the last 200 lines that looked damaged: MQTT has no checksum, use TLS when this is not 0.', [['', line.recentRate ?? 0]]);
    metric('atbridge_line_baud_fallbacks_total', 'counter', 'Times --baud-fallback stepped the rate down.', [['', line.baudFallbacks ?? 0]]);
  }
  metric('atbridge_uptime_seconds', 'gauge', 'Seconds since the bridge started.', [['', status.uptimeSeconds]]);
  return `${lines.join('\n')}\n`;
}

/** `--metrics 127.0.0.1:9464`: GET /metrics answers with the current numbers. */
export async function serveMetrics(address: string, current: () => Promise<BridgeStatus>): Promise<http.Server> {
  const { host, port } = parseListenAddress(address);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found\n');
      return;
    }
    current().then(
      (status) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(status)),
      () => res.writeHead(500).end('status unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AtbridgeError('metrics-listen', `cannot serve metrics on ${address}: ${err.message}`, { exitCode: ExitCode.usage })));
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(address.trim());
  const port = Number(m?.[2]);
  if (!m || port < 0 || port > 65535) {
    throw new AtbridgeError('bad-option', `metrics address must be HOST:PORT (say 127.0.0.1:9464), not "${address}"`, { exitCode: ExitCode.usage });
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}
