import type { Command } from 'commander';
import { AtbridgeError } from '../../errors.js';
import { MqttClient } from '../../mqtt/client.js';
import { attachDebug, attachStatus, modemProgress } from '../../mqtt/cli/debug.js';
import { formatMessage, formatProblem } from '../../mqtt/cli/format.js';
import { addConnectionOptions, assertFilters, connectionSetup, parseQos, usageError, type ConnectionCliOptions } from '../../mqtt/cli/options.js';
import { makeConnector } from '../../mqtt/cli/transport.js';
import { topicMatches } from '../../mqtt/topic.js';
import { addModemOptions, type ModemCliOptions } from '../modem-options.js';
import { action, collect, intOption } from '../run.js';

interface SubOptions extends ConnectionCliOptions, ModemCliOptions {
  topic: string[];
  filterOut: string[];
  unsubscribe: string[];
  qos: string;
  verbose?: boolean;
  count?: number;
  exitAfterSubscribe?: boolean;
  timeout?: number;
  eol: boolean;
  format?: string;
  skipRetained?: boolean;
  retainedOnly?: boolean;
  removeRetained?: boolean;
  pretty?: boolean;
}

/** mosquitto_sub's exit code when -W runs out. */
const TIMED_OUT = 27;

export default function register(program: Command): void {
  const cmd = program
    .command('sub')
    .description('subscribe and print messages, as mosquitto_sub (through a module with --device, else directly)')
    .option('-t, --topic <filter>', 'topic filter to subscribe to (repeatable)', collect, [])
    .option('-T, --filter-out <filter>', 'do not print messages matching this filter (repeatable)', collect, [])
    .option('-U, --unsubscribe <filter>', 'unsubscribe from this filter (repeatable; for persistent sessions)', collect, [])
    .option('-q, --qos <qos>', 'QoS of the subscriptions', '0')
    .option('-v, --verbose', 'print the topic before each payload')
    .option('-C, --count <n>', 'exit after this many messages', intOption('-C', 1))
    .option('-E, --exit-after-subscribe', 'exit once the subscriptions are acknowledged')
    .option('-W, --timeout <seconds>', `exit with code ${TIMED_OUT} after this many seconds`, intOption('-W', 1, 3600 * 24 * 365))
    .option('-N, --no-eol', 'no newline after each message')
    .option('-F, --format <format>', 'output format as mosquitto_sub: %t topic, %p payload, %j JSON, ... with widths (%-10t %05l), @Y-@m-@d times, \\ escapes')
    .option('-R, --skip-retained', 'do not print retained ("stale") messages')
    .option('--retained-only', 'print only retained messages; exit at the first live one')
    .option('--remove-retained', 'clear every retained message received (publishes an empty retained one)')
    .option('--pretty', 'indent JSON output (-F %j)');
  addConnectionOptions(cmd);
  addModemOptions(cmd);
  cmd.action(action((opts: SubOptions) => runSub(opts)));
}

async function runSub(opts: SubOptions): Promise<number> {
  // Like mosquitto_sub, a bad -F stops it before it connects.
  const badFormat = opts.format === undefined ? undefined : formatProblem(opts.format);
  if (badFormat) throw usageError(badFormat);
  const setup = connectionSetup(opts, 'sub');
  const filters = [...opts.topic, ...(setup.urlTopic ? [setup.urlTopic] : [])];
  if (filters.length === 0 && opts.unsubscribe.length === 0) throw usageError('you must specify a topic to subscribe to (-t)');
  assertFilters([...filters, ...opts.filterOut, ...opts.unsubscribe]);
  const qos = parseQos(opts.qos);

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const warn = (line: string) => process.stderr.write(`atbridge: ${line}\n`);
  const connector = makeConnector(setup, opts, modemProgress(setup.debug, say));
  const client = new MqttClient({ ...setup.client, connect: connector.connect, reconnect: { baseMs: 500, capMs: 30_000 } });
  if (setup.debug) attachDebug(client, say);
  attachStatus(client, warn);

  let finish: (code: number | Error) => void = () => {};
  const done = new Promise<number>((resolve, reject) => {
    finish = (code) => (typeof code === 'number' ? resolve(code) : reject(code));
  });
  done.catch(() => {}); // settled early (a failed start) is fine: it is awaited, or not needed
  let printed = 0;
  const output = { verbose: opts.verbose === true, eol: opts.eol, format: opts.format, pretty: opts.pretty === true, clientId: client.clientId };
  client.on('message', (topic, payload, packet) => {
    if (opts.removeRetained && packet.retain && payload.length > 0) void client.publish(topic, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => {});
    if (opts.retainedOnly && !packet.retain) return finish(0);
    if (opts.skipRetained && packet.retain) return;
    if (opts.filterOut.some((f) => topicMatches(f, topic))) return;
    if (opts.count !== undefined && printed >= opts.count) return;
    const { bytes, errors } = formatMessage(packet, payload, output);
    process.stdout.write(bytes);
    // mosquitto_sub's own words (a %J payload that is not JSON); the message still counts toward -C.
    for (const error of errors) process.stderr.write(`${error}\n`);
    printed++;
    if (opts.count !== undefined && printed >= opts.count) finish(0);
  });
  client.on('close', () => finish(new AtbridgeError('mqtt-closed', 'the connection to the broker closed for good')));
  const stop = () => finish(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.start();
    if (opts.timeout !== undefined) timer = setTimeout(() => finish(TIMED_OUT), opts.timeout * 1000);
    if (filters.length > 0) {
      const granted = await client.subscribe(filters, { qos });
      const refused = filters.filter((_, i) => (granted[i] ?? 0x80) >= 0x80);
      for (const filter of refused) warn(`the broker refused the subscription to "${filter}"`);
      if (refused.length === filters.length) throw new AtbridgeError('mqtt-subscribe-refused', 'all subscription requests were denied', { fix: 'check the broker ACL for this user' });
    }
    if (opts.unsubscribe.length > 0) await client.unsubscribe(opts.unsubscribe);
    if (opts.exitAfterSubscribe) finish(0);
    const code = await done;
    if (code === TIMED_OUT) process.stderr.write('Timed out\n');
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await client.end();
    await connector.close();
  }
}
