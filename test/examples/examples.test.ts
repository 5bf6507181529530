import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttClient } from '../../src/mqtt/client.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'dist/examples');

/** Runs a compiled example as a user would (`node example.js`), against the emulator and this broker. */
async function example(name: string, env: Record<string, string> = {}, args: string[] = []) {
  const { stdout, stderr } = await run(process.execPath, [join(EXAMPLES, `${name}.js`), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { stdout, stderr };
}

describe('examples/ run as programs against the emulator and a real mosquitto', () => {
  let broker: Mosquitto;
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-examples-'));
  const env = () => ({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(broker.port), ATBRIDGE_DEVICE: 'emu:sim7600?pacing=0' });

  beforeAll(async () => {
    broker = await startMosquitto({ tls: true });
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A direct subscriber on the broker, collecting what the example published. */
  async function listen(filter: string) {
    const got: string[] = [];
    const client = new MqttClient({ connect: () => new Promise<net.Socket>((resolve) => { const s = net.connect(broker.port, '127.0.0.1', () => resolve(s)); }), clientId: `listener-${Math.random()}`, reconnect: false });
    client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await client.start();
    await client.subscribe(filter, { qos: 1 });
    return { got, stop: () => client.end() };
  }

  it('sensor-durable-queue delivers every reading and leaves the queue empty', async () => {
    const sub = await listen('site/1/temp');
    const queueDir = join(dir, 'queue');
    const { stdout } = await example('sensor-durable-queue', { ...env(), QUEUE_DIR: queueDir, READINGS: '4' });
    expect(stdout).toContain('delivered 4 reading(s); 0 left in the queue');
    await expect.poll(() => sub.got.length).toBe(4);
    expect(sub.got.map((m) => JSON.parse(m.split(' ')[1]!).n)).toEqual([0, 1, 2, 3]);
    await sub.stop();
  });

  it('mqttjs-over-module: MQTT.js subscribes and receives its own message through the module', async () => {
    const { stdout } = await example('mqttjs-over-module', env());
    expect(stdout).toContain('received: echo/1 hello through the module');
  });

  it('tls-through-module verifies the broker certificate and publishes', async () => {
    const sub = await listen('secure/#');
    const { stdout } = await example('tls-through-module', { ...env(), MQTT_PORT: String(broker.tlsPort), CA_FILE: broker.certs!.caFile });
    expect(stdout).toMatch(/TLS TLSv1\.[23] \S+, certificate verified/);
    await expect.poll(() => sub.got).toEqual(['secure/hello over TLS through the module']);
    await sub.stop();
  });

  it('poll-signal reads rssi and registration while connected', async () => {
    const { stdout } = await example('poll-signal', { ...env(), POLLS: '2' });
    const polls = stdout.split('\n').filter((l) => l.startsWith('poll '));
    expect(polls).toHaveLength(2);
    for (const line of polls) expect(line).toMatch(/^poll \d: state socket-command, rssi \d+, registration \{[^}]*"[15]"[^}]*\}/);
    // status() waits for a read or send in flight instead of skipping: even the first poll has the signal.
  });

  it('a failure is one line with the fix and the error exit code, not a stack trace', async () => {
    const err = await example('poll-signal', { ...env(), ATBRIDGE_DEVICE: 'emu:sim7600?pacing=0&sim=missing' }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(14);
    expect(err?.stderr).toMatch(/^error: .*SIM/m);
    expect(err?.stderr).toMatch(/^fix: /m);
    expect(err?.stderr).not.toMatch(/\n\s+at /);
  });

  it('diagnose-capture reports a finding with its fix and exits 1 on an error-level one', async () => {
    const log = join(ROOT, 'fixtures/logs/sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt');
    const err = await example('diagnose-capture', {}, [log]).then(() => undefined, (e: { code: number; stdout: string }) => e);
    expect(err?.code).toBe(1);
    expect(err?.stdout).toMatch(/^error sim-missing: /m);
    expect(err?.stdout).toMatch(/^ {2}fix: /m);
  });
});
