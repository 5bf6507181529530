/**
 * `atbridge rr`: mosquitto_rr's request/response. Subscribe to the response topic (-e), publish the
 * request to -t (MQTT 5: with the response topic and -D publish correlation-data as properties),
 * print the first response as mosquitto_sub would, and exit.
 */
import type { MosqConfig } from './mosq-args.js';
import { connectFailure, makeRun } from './mosq-client.js';
import { loadMessage } from './mosq-pub.js';
import { printer, runEnd, subscribeOptions, TIMED_OUT } from './mosq-sub.js';

export async function runRr(cfg: MosqConfig, name: string): Promise<number> {
  const payload = await loadMessage(cfg, (line) => process.stderr.write(`${line}\n`));
  if (payload === 'error') return 1;
  if (cfg.topic === undefined || cfg.pubMode === 'none' || cfg.responseTopic === undefined) {
    process.stderr.write(`Error: All of topic, message, and response topic must be supplied.\n\nUse '${name} --help' to see usage.\n`);
    return 1;
  }
  if (cfg.props.publish.responseTopic !== undefined) {
    process.stderr.write('Error in PUBLISH properties: Duplicate response topic.\n');
    return 1;
  }
  const { client, connector, warn } = makeRun(cfg);
  const print = printer(cfg, client.clientId);
  const { done, finish, clear } = runEnd(cfg, client);
  client.on('message', (_topic, body, packet) => {
    if (packet.retain && cfg.noRetain) return;
    print(packet, body);
    finish(0);
  });
  try {
    try {
      await client.start();
    } catch (err) {
      return connectFailure(err, warn);
    }
    const granted = await client.subscribe([cfg.responseTopic], subscribeOptions(cfg));
    if ((granted[0] ?? 0x80) >= 0x80) {
      warn('Subscription refused by the broker.');
      return 1;
    }
    const properties = cfg.protocolVersion === 5 ? { ...cfg.props.publish, responseTopic: cfg.responseTopic } : undefined;
    await client.publish(cfg.topic, payload!, { qos: cfg.qos, retain: cfg.retain, ...(properties ? { properties: properties as never } : {}) });
    const code = await done;
    if (code === TIMED_OUT) warn('Timed out');
    return code;
  } finally {
    clear();
    await client.end();
    await connector.close();
  }
}
