/** `atbridge sub`: mosquitto_sub's behaviour on a parsed MosqConfig. */
import type { IPublishPacket } from 'mqtt-packet';
import { topicMatches } from '../topic.js';
import { formatMessage } from './format.js';
import type { MosqConfig } from './mosq-args.js';
import { connectFailure, makeRun, type Run } from './mosq-client.js';

/** mosquitto_sub's exit code when -W runs out (MOSQ_ERR_TIMEOUT). */
export const TIMED_OUT = 27;

/** Prints one message as mosquitto_sub does (-v, -N, -F, --pretty). */
export function printer(cfg: MosqConfig, clientId: string): (packet: IPublishPacket, payload: Buffer) => void {
  const output = { verbose: cfg.verbose, eol: cfg.eol, format: cfg.format, pretty: cfg.pretty, clientId };
  return (packet, payload) => {
    const { bytes, errors } = formatMessage(packet, payload, output);
    process.stdout.write(bytes);
    for (const error of errors) process.stderr.write(`${error}\n`);
  };
}

/** Subscribe options from -q, -R (retain handling 2, MQTT 5) and --retain-as-published. */
export function subscribeOptions(cfg: MosqConfig): Parameters<Run['client']['subscribe']>[1] {
  const properties = cfg.protocolVersion === 5 && Object.keys(cfg.props.subscribe).length > 0 ? (cfg.props.subscribe as never) : undefined;
  return {
    qos: cfg.qos,
    ...(cfg.protocolVersion === 5 && cfg.noRetain ? { rh: 2 } : {}),
    ...(cfg.protocolVersion === 5 && cfg.retainAsPublished ? { rap: true } : {}),
    ...(properties ? { properties } : {}),
  };
}

/** How a run ends: `finish(code)` settles `done`; the connection's close ends it with 1, -W with TIMED_OUT. */
export function runEnd(cfg: MosqConfig, client: Run['client']): { done: Promise<number>; finish: (code: number) => void; clear: () => void } {
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  client.on('close', () => finish(1));
  const timer = cfg.timeout > 0 ? setTimeout(() => finish(TIMED_OUT), cfg.timeout * 1000) : undefined;
  return { done, finish: (code) => finish(code), clear: () => timer && clearTimeout(timer) };
}

export async function runSub(cfg: MosqConfig): Promise<number> {
  if (cfg.noRetain && cfg.retainedOnly) {
    process.stderr.write("\nError: Combining '-R' and '--retained-only' makes no sense.\n");
    return 1;
  }
  const { client, connector, warn } = makeRun(cfg);
  const print = printer(cfg, client.clientId);
  const { done, finish, clear } = runEnd(cfg, client);
  let printed = 0;
  client.on('message', (topic, payload, packet) => {
    if (cfg.retainedOnly && !packet.retain) return finish(0);
    if (cfg.removeRetained && packet.retain) void client.publish(topic, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => {});
    if (cfg.noRetain && packet.retain) return;
    if (cfg.filterOuts.some((f) => topicMatches(f, topic))) return;
    if (cfg.msgCount > 0 && printed >= cfg.msgCount) return;
    if (cfg.randomFilter < 10000 && Math.floor(Math.random() * 10000) >= cfg.randomFilter) return;
    print(packet, payload);
    printed++;
    if (cfg.msgCount > 0 && printed >= cfg.msgCount) finish(0);
  });
  const stop = () => finish(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    try {
      await client.start();
    } catch (err) {
      return connectFailure(err, warn);
    }
    if (cfg.topics.length > 0) {
      const granted = await client.subscribe(cfg.topics, subscribeOptions(cfg));
      if (granted.every((g) => g >= 0x80)) {
        warn('All subscription requests were denied.');
        return 1;
      }
    }
    if (cfg.unsubTopics.length > 0) await client.unsubscribe(cfg.unsubTopics);
    if (cfg.exitAfterSub) finish(0);
    const code = await done;
    if (code === TIMED_OUT) warn('Timed out');
    return code;
  } finally {
    clear();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await client.end();
    await connector.close();
  }
}
