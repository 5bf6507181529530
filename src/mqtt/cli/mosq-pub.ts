/** `atbridge pub`: mosquitto_pub's behaviour on a parsed MosqConfig. */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../errors.js';
import { DurableQueue } from '../durable-queue.js';
import type { MosqConfig } from './mosq-args.js';
import { attachStatus } from './debug.js';
import { connectFailure, makeRun } from './mosq-client.js';
import { lines, readAll } from './stdin-lines.js';

/** At most this many -l lines wait for their acknowledgement before stdin is read further. */
const LINE_BACKLOG = 1000;

/** The message of -m/-f/-s/-n, read before connecting (a missing file is reported first, as mosquitto does). */
export async function loadMessage(cfg: MosqConfig, warn: (line: string) => void): Promise<Buffer | undefined | 'error'> {
  if (cfg.pubMode === 'stdin-file') {
    try {
      return await readAll(process.stdin);
    } catch {
      warn('Error loading input from stdin.');
      return 'error';
    }
  }
  if (cfg.pubMode === 'file') {
    try {
      return readFileSync(cfg.file!);
    } catch {
      warn(`Error: Unable to open file "${cfg.file}".`);
      warn(`Error loading input file "${cfg.file}".`);
      return 'error';
    }
  }
  if (cfg.pubMode === 'cmd') return Buffer.from(cfg.message ?? '');
  if (cfg.pubMode === 'null') return Buffer.alloc(0);
  return undefined;
}

export async function runPub(cfg: MosqConfig, printUsage: () => void): Promise<number> {
  const warnEarly = (line: string) => process.stderr.write(`${line}\n`);
  const payload = await loadMessage(cfg, warnEarly);
  if (payload === 'error') return 1;
  if (cfg.topic === undefined || cfg.pubMode === 'none') {
    process.stderr.write('Error: Both topic and message must be supplied.\n');
    printUsage();
    return 1;
  }
  const queueDir = typeof cfg.modem['--queue'] === 'string' ? (cfg.modem['--queue'] as string) : undefined;
  const queue = queueDir !== undefined ? DurableQueue.open({ dir: queueDir }) : undefined;
  const { client, connector, warn, say } = makeRun(cfg, {
    ...(queue ? { queue, reconnect: { baseMs: 500, capMs: 30_000, retryInitial: true } } : {}),
  });
  // Reconnects and drops (atbridge's own lines): a store-and-forward run says why it is still waiting.
  attachStatus(client, (line) => process.stderr.write(`atbridge: ${line}\n`));
  if (queue && queue.size > 0) process.stderr.write(`atbridge: resending ${queue.size} message(s) left in ${queueDir} by an earlier run\n`);
  const topic = cfg.topic;
  const properties = cfg.protocolVersion === 5 && Object.keys(cfg.props.publish).length > 0 ? (cfg.props.publish as never) : undefined;
  let failures = 0;
  const publish = (body: Buffer): Promise<void> =>
    client.publish(topic, body, { qos: cfg.qos, retain: cfg.retain, ...(properties ? { properties } : {}) }).catch((err: unknown) => {
      failures++;
      warn(`Error: ${errorMessage(err)}`);
    });
  const started = client.start();
  try {
    if (queue) started.catch(() => undefined);
    else {
      try {
        await started;
      } catch (err) {
        return connectFailure(err, warn);
      }
    }
    if (cfg.pubMode === 'stdin-line') {
      const pending = new Set<Promise<void>>();
      for await (const line of lines(process.stdin)) {
        const sent = publish(line);
        if (queue && cfg.debug) say(`Client ${client.clientId} queued PUBLISH (q${cfg.qos}, '${topic}', ... (${line.length} bytes))`);
        pending.add(sent);
        void sent.finally(() => pending.delete(sent));
        if (pending.size >= LINE_BACKLOG) await Promise.race(pending);
      }
      await Promise.all(pending);
    } else {
      for (let i = 0; i < cfg.repeatCount; i++) {
        if (queue) void publish(payload!);
        else await publish(payload!);
        if (cfg.repeatDelayMs > 0 && i < cfg.repeatCount - 1) await new Promise((r) => setTimeout(r, cfg.repeatDelayMs));
      }
    }
    if (queue) {
      await started;
      while (client.queued > 0) await new Promise((r) => setTimeout(r, 20));
    }
    await client.end();
  } finally {
    if (cfg.pubMode === 'stdin-line' || cfg.pubMode === 'stdin-file') process.stdin.destroy();
    await client.end(true);
    await connector.close();
    queue?.close();
  }
  return failures > 0 ? 1 : 0;
}
