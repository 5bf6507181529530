import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AtbridgeError, errorMessage } from '../../errors.js';
import { MqttClient } from '../../mqtt/client.js';
import { attachDebug, attachStatus, modemProgress } from '../../mqtt/cli/debug.js';
import { addConnectionOptions, connectionSetup, parseQos, usageError, type ConnectionCliOptions } from '../../mqtt/cli/options.js';
import { lines, readAll } from '../../mqtt/cli/stdin-lines.js';
import { makeConnector } from '../../mqtt/cli/transport.js';
import { DurableQueue } from '../../mqtt/durable-queue.js';
import { publishTopicProblem } from '../../mqtt/topic.js';
import { addModemOptions, type ModemCliOptions } from '../modem-options.js';
import { action, intOption } from '../run.js';

interface PubOptions extends ConnectionCliOptions, ModemCliOptions {
  topic?: string;
  message?: string;
  file?: string;
  stdinLine?: boolean;
  stdinFile?: boolean;
  nullMessage?: boolean;
  qos: string;
  retain?: boolean;
  repeat?: number;
  repeatDelay?: string;
  maxInflight?: number;
  queue?: string;
}

/** At most this many -l lines wait for their acknowledgement before stdin is read further. */
const LINE_BACKLOG = 1000;

export default function register(program: Command): void {
  const cmd = program
    .command('pub')
    .description('publish a message, as mosquitto_pub (through a module with --device, else directly)')
    .option('-t, --topic <topic>', 'topic to publish to')
    .option('-m, --message <message>', 'message payload')
    .option('-f, --file <file>', 'send the contents of a file as the message')
    .option('-l, --stdin-line', 'read stdin, sending one message per line')
    .option('-s, --stdin-file', 'read stdin, sending it whole as one message')
    .option('-n, --null-message', 'send a zero-length message')
    .option('-q, --qos <qos>', 'quality of service 0, 1 or 2', '0')
    .option('-r, --retain', 'the broker keeps the message for later subscribers')
    .option('--repeat <n>', 'with -m, -f, -s or -n: publish N times', intOption('--repeat', 1))
    .option('--repeat-delay <seconds>', 'wait this long between repeats (fractions allowed)')
    .option('-M, --max-inflight <n>', 'QoS 1/2 messages sent and not yet acknowledged', intOption('-M', 1, 65535), 20)
    .option('--queue <dir>', 'durable outbound queue: QoS 1/2 messages survive link loss and restarts (kill -9)');
  addConnectionOptions(cmd);
  addModemOptions(cmd);
  cmd.action(action((opts: PubOptions) => runPub(opts)));
}

async function runPub(opts: PubOptions): Promise<number> {
  const setup = connectionSetup(opts, 'pub');
  const topic = opts.topic ?? setup.urlTopic;
  const sources = [opts.message !== undefined, opts.file !== undefined, opts.stdinLine, opts.stdinFile, opts.nullMessage].filter(Boolean).length;
  if (topic === undefined || sources === 0) throw usageError('both topic (-t) and message (-m, -f, -l, -s or -n) must be supplied');
  if (sources > 1) throw usageError('only one type of message can be sent at once (-m, -f, -l, -s or -n)');
  const topicProblem = publishTopicProblem(topic);
  if (topicProblem) throw usageError(`invalid publish topic: ${topicProblem}`);
  const qos = parseQos(opts.qos);
  const repeatDelayMs = opts.repeatDelay === undefined ? 0 : seconds(opts.repeatDelay);
  if (opts.queue !== undefined && qos === 0) throw usageError('--queue keeps QoS 1 and 2 messages: add -q 1 or -q 2');

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const warn = (line: string) => process.stderr.write(`atbridge: ${line}\n`);
  const connector = makeConnector(setup, opts, modemProgress(setup.debug, say));
  const queue = opts.queue !== undefined ? DurableQueue.open({ dir: opts.queue }) : undefined;
  const client = new MqttClient({
    ...setup.client,
    connect: connector.connect,
    inflight: opts.maxInflight ?? 20,
    // With a queue the job is store-and-forward: keep trying even if the broker is not there yet.
    reconnect: { baseMs: 500, capMs: 30_000, retryInitial: queue !== undefined },
    ...(queue ? { queue } : {}),
  });
  if (setup.debug) attachDebug(client, say);
  attachStatus(client, warn);

  let failures = 0;
  const publish = (payload: Buffer): Promise<void> =>
    client.publish(topic, payload, { qos, retain: opts.retain === true }).catch((err: unknown) => {
      failures++;
      warn(errorMessage(err));
    });
  if (queue && queue.size > 0) warn(`resending ${queue.size} message(s) left in ${opts.queue} by an earlier run`);
  const started = client.start();
  try {
    // With a queue each message goes to disk first and out once the broker is there: do not wait for it.
    if (queue) started.catch(() => undefined);
    else await started;
    if (opts.stdinLine) {
      const pending = new Set<Promise<void>>();
      for await (const line of lines(process.stdin)) {
        const sent = publish(line);
        if (queue && setup.debug) say(`Client ${client.clientId} queued PUBLISH (q${qos}, '${topic}', ... (${line.length} bytes))`);
        pending.add(sent);
        void sent.finally(() => pending.delete(sent));
        if (pending.size >= LINE_BACKLOG) await Promise.race(pending);
      }
      await Promise.all(pending);
    } else {
      const payload = await messagePayload(opts);
      const times = opts.repeat ?? 1;
      for (let i = 0; i < times; i++) {
        // Queued messages are on disk once published: wait for their acks together (drained below).
        if (queue) void publish(payload);
        else await publish(payload);
        if (repeatDelayMs > 0 && i < times - 1) await new Promise((r) => setTimeout(r, repeatDelayMs));
      }
    }
    if (queue) {
      await started;
      await drained(client);
    }
    await client.end();
  } finally {
    process.stdin.destroy();
    await client.end(true);
    await connector.close();
    queue?.close();
  }
  return failures > 0 ? 1 : 0;
}

async function messagePayload(opts: PubOptions): Promise<Buffer> {
  if (opts.message !== undefined) return Buffer.from(opts.message);
  if (opts.nullMessage) return Buffer.alloc(0);
  if (opts.stdinFile) return readAll(process.stdin);
  try {
    return readFileSync(opts.file!);
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot read message file ${opts.file}: ${errorMessage(err)}`);
  }
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw usageError(`--repeat-delay must be a number of seconds, not "${value}"`);
  return n * 1000;
}

/** Until every queued message (this run's and earlier runs') is acknowledged. */
function drained(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (client.queued > 0) return;
      client.off('packetreceive', afterPacket);
      client.off('close', onClose);
      resolve();
    };
    // 'packetreceive' comes before the client handles the packet: look once the ack has been applied.
    const afterPacket = () => setImmediate(check);
    const onClose = () => reject(new AtbridgeError('mqtt-closed', `the connection closed with ${client.queued} message(s) still queued; they will be sent on the next run`));
    client.on('packetreceive', afterPacket);
    client.on('close', onClose);
    check();
  });
}
