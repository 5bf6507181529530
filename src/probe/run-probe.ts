import type { QoS } from 'mqtt-packet';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { ModemCliOptions } from '../cli/modem-options.js';
import type { ConnectionSetup } from '../mqtt/cli/options.js';
import { openProbeConnector } from './connector.js';
import { writeHtml } from './html.js';
import { writeJtl, type JtlVersion } from './jtl.js';
import { minimumSize } from './payload.js';
import { liveLine, summary } from './report.js';
import type { ProbeResult } from './result.js';
import { runLatency, type LatencyRunOptions, type LiveFigures } from './run-latency.js';
import { runLoad, type LoadRunOptions } from './run-load.js';
import { SampleLog } from './samples.js';

export interface ProbeCommandOptions {
  setup: ConnectionSetup;
  modem: ModemCliOptions;
  topic: string | undefined;
  qos: QoS[];
  rate: number;
  count: number | undefined;
  durationMs: number | undefined;
  size: number;
  receiver: 'module' | 'direct';
  waitMs: number;
  inflight: number;
  clients: number | undefined;
  connectRate: number;
  jtl: string | undefined;
  jtlVersion: JtlVersion;
  json: boolean;
  html: string | undefined;
  quiet: boolean;
  signalEveryMs: number | undefined;
}

/** Runs `atbridge probe` and writes its outputs; returns the exit code. */
export async function runProbe(o: ProbeCommandOptions): Promise<number> {
  const expected = o.count ?? Math.ceil((o.rate * (o.durationMs ?? 0)) / 1000) + 1;
  const needed = minimumSize('00000000.00000', expected);
  if (o.size < needed) {
    throw new AtbridgeError('bad-option', `--size ${o.size} is too small: the send time and message number take ${needed} bytes`, { exitCode: ExitCode.usage });
  }
  const err = (line: string) => process.stderr.write(`atbridge: ${line}\n`);
  const progress = (line: string) => {
    if (!o.quiet) err(line);
  };
  const live = o.quiet
    ? undefined
    : process.stderr.isTTY
      ? (line: string) => process.stderr.write(`\r\x1b[2K${line}`)
      : (line: string) => process.stderr.write(`${line}\n`);
  const samples = new SampleLog(o.jtl !== undefined);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const connector = await openProbeConnector(o.setup, o.modem, progress);
  const url = `mqtt${o.setup.tls ? 's' : ''}://${o.setup.host}:${o.setup.port}`;
  let result: ProbeResult;
  // What both runs take alike; each adds its own below.
  const shared = {
    client: o.setup.client,
    ...(o.topic !== undefined ? { topic: o.topic } : {}),
    qos: o.qos,
    rate: o.rate,
    ...(o.count !== undefined ? { count: o.count } : {}),
    ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
    size: o.size,
    waitMs: o.waitMs,
    inflight: o.inflight,
    samples,
    signal: controller.signal,
    ...(live ? { onLive: (f: LiveFigures) => live(liveLine(f)) } : {}),
    onNote: progress,
  } satisfies Partial<LoadRunOptions & LatencyRunOptions>;
  try {
    if (o.clients !== undefined) {
      result = await runLoad({
        ...shared,
        connect: connector.direct,
        clients: o.clients,
        connectRate: o.connectRate,
        url,
      });
    } else {
      result = await runLatency({
        ...shared,
        publisher: connector.publisher,
        ...(o.receiver === 'direct' && o.modem.device ? { receiver: connector.direct } : {}),
        mode: o.modem.device ? 'module' : 'direct',
        url: `${url}/${o.topic ?? ''}`,
        ...(connector.serial ? { serial: connector.serial } : {}),
        ...(connector.moduleStatus ? { moduleStatus: connector.moduleStatus } : {}),
        ...(o.signalEveryMs !== undefined ? { signalEveryMs: o.signalEveryMs } : {}),
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (live && process.stderr.isTTY) process.stderr.write('\n');
    await connector.close();
  }
  if (o.jtl !== undefined) writeJtl(o.jtl, samples.samples, o.jtlVersion);
  if (o.html !== undefined) writeHtml(o.html, result);
  process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${summary(result)}\n`);
  return 0;
}
