import type { Command } from 'commander';
import type { QoS } from 'mqtt-packet';
import { addConnectionOptions, connectionSetup, parseQos, usageError, type ConnectionCliOptions } from '../../mqtt/cli/options.js';
import { publishTopicProblem } from '../../mqtt/topic.js';
import { addModemOptions, type ModemCliOptions } from '../modem-options.js';
import { action, intOption } from '../run.js';

interface ProbeOptions extends ConnectionCliOptions, ModemCliOptions {
  topic?: string;
  qos: string;
  rate: string;
  count?: number;
  duration?: string;
  size: number;
  receiver?: string;
  wait: string;
  maxInflight: number;
  clients?: number;
  connectRate: string;
  jtl?: string;
  jtlVersion: string;
  json?: boolean;
  html?: string;
  quiet?: boolean;
  signalEvery?: string;
}

export default function register(program: Command): void {
  const cmd = program
    .command('probe')
    .description('measure MQTT delay, loss and load as JMeter\'s MQTT plugin does: through the module (--device), direct, or --clients N against a broker')
    .option('-t, --topic <topic>', 'topic to publish to and receive from (default atbridge/probe/<run id>)')
    .option('-q, --qos <levels>', 'QoS of the messages: 0, 1, 2 or a list (0,1,2: messages take turns)', '0')
    .option('--rate <n>', 'messages a second (per client with --clients)', '1')
    .option('--count <n>', 'messages to send (per client with --clients); default 20 unless --duration', intOption('--count', 1, 10_000_000))
    .option('--duration <seconds>', 'send for this long instead of --count')
    .option('--size <bytes>', 'payload size: send time first (JMeter\'s layout), padding to this size', intOption('--size', 1, 10_000_000), 64)
    .option('--receiver <who>', 'who receives the messages back: module (its own subscription) or direct (a second client on this host)')
    .option('--wait <seconds>', 'after the last send, wait this long for messages still on their way', '5')
    .option('-M, --max-inflight <n>', 'QoS 1/2 messages sent and not yet acknowledged', intOption('-M', 1, 65535), 20)
    .option('--clients <n>', 'load: N virtual clients straight to the broker (no module), each publishing and receiving its own topic', intOption('--clients', 1, 100_000))
    .option('--connect-rate <n>', 'load: new connections a second', '20')
    .option('--jtl <file>', 'write every sample in JMeter\'s CSV result format (jmeter -g FILE -o DIR reads it)')
    .option('--jtl-version <v>', 'JMeter whose columns --jtl writes: 5 (JMeter 3.1 and later) or 2.13 (Debian\'s jmeter: no sentBytes)', '5')
    .option('--json', 'print the result as JSON instead of the summary')
    .option('--html <file>', 'write a self-contained page with the delay histogram and delay over time')
    .option('--signal-every <seconds>', 'also read the module\'s signal and network this often while sending (command mode; the AT commands share the line)')
    .option('--quiet', 'no live line');
  addConnectionOptions(cmd);
  addModemOptions(cmd);
  cmd.action(action((opts: ProbeOptions) => runProbeCommand(opts)));
}

function positive(name: string, value: string, max = 1_000_000): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw usageError(`${name} must be a number above 0 (at most ${max}), not "${value}"`);
  return n;
}

function nonNegative(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw usageError(`${name} must be a number of seconds from 0 to 86400, not "${value}"`);
  return n;
}

function qosLevels(value: string): QoS[] {
  const levels = value.split(',').map((v) => v.trim());
  if (levels.length === 0 || levels.some((l) => l === '')) throw usageError(`invalid QoS list "${value}": use 0, 1, 2 or a list such as 0,1,2`);
  return levels.map((l) => parseQos(l));
}

async function runProbeCommand(opts: ProbeOptions): Promise<number> {
  const setup = connectionSetup(opts, 'pub');
  if (opts.id === undefined && opts.idPrefix === undefined) setup.client.clientId = `atbridge-probe-${process.pid}`;
  const topic = opts.topic ?? setup.urlTopic;
  if (topic !== undefined) {
    const problem = publishTopicProblem(topic);
    if (problem) throw usageError(`invalid probe topic: ${problem}`);
  }
  const qos = qosLevels(opts.qos);
  const rate = positive('--rate', opts.rate);
  const durationMs = opts.duration !== undefined ? positive('--duration', opts.duration, 86_400) * 1000 : undefined;
  if (durationMs !== undefined && opts.count !== undefined) throw usageError('give --count or --duration, not both');
  const count = durationMs === undefined ? opts.count ?? 20 : undefined;
  const waitMs = nonNegative('--wait', opts.wait) * 1000;
  if (opts.receiver !== undefined && opts.receiver !== 'module' && opts.receiver !== 'direct') {
    throw usageError(`--receiver must be module or direct, not "${opts.receiver}"`);
  }
  if (opts.receiver === 'module' && !opts.device) throw usageError('--receiver module needs --device (the module to receive through)');
  if (opts.clients !== undefined && opts.device) throw usageError('--clients runs straight against the broker: leave out --device');
  const connectRate = positive('--connect-rate', opts.connectRate);
  if (opts.jtlVersion !== '5' && opts.jtlVersion !== '2.13') throw usageError(`--jtl-version must be 5 or 2.13, not "${opts.jtlVersion}"`);

  const { runProbe } = await import('../../probe/run-probe.js');
  return runProbe({
    setup,
    modem: opts,
    topic,
    qos,
    rate,
    count,
    durationMs,
    size: opts.size,
    receiver: opts.device ? (opts.receiver === 'direct' ? 'direct' : 'module') : 'direct',
    waitMs,
    inflight: opts.maxInflight,
    clients: opts.clients,
    connectRate,
    jtl: opts.jtl,
    jtlVersion: opts.jtlVersion,
    json: opts.json === true,
    html: opts.html,
    quiet: opts.quiet === true,
    signalEveryMs: opts.signalEvery !== undefined ? positive('--signal-every', opts.signalEvery, 3600) * 1000 : undefined,
  });
}
