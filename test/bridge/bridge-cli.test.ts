import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from '../../src/mqtt/client.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { EMULATED_MODULE, keys, publisher, until, watcher, type Tally } from './support.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';

/** `atbridge bridge` as a separate process, as systemd runs it: signals, kill -9, exit codes. */
let localBroker: Mosquitto;
let remoteBroker: Mosquitto;
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startBridge(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, 'bridge', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let text = '';
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, stderr: () => text, exited };
}

function common(id: string, queueDir: string): string[] {
  return ['--device', EMULATED_MODULE, '--local', `mqtt://127.0.0.1:${localBroker.port}`, '--remote', `mqtt://127.0.0.1:${remoteBroker.port}`,
    '--connection', id, '--queue-dir', queueDir, '--restart-timeout', '0.1 0.5', '--status-interval', '1'];
}

beforeAll(async () => {
  // The CLI under test is dist/ as `npm test` has just built it (a second compile here timed out on a loaded machine).
  [localBroker, remoteBroker] = await Promise.all([startMosquitto(), startMosquitto()]);
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([localBroker?.stop(), remoteBroker?.stop()]);
});

/** Publishes with mosquitto_pub until mosquitto_sub on the other side has printed `expected`. */
async function carried(fromPort: number, toPort: number, topic: string, filter: string): Promise<string> {
  const sub = spawn('mosquitto_sub', ['-p', String(toPort), '-t', filter, '-v', '-C', '1', '-q', '1']);
  children.add(sub);
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await until(() => {
      spawnSync('mosquitto_pub', ['-p', String(fromPort), '-t', topic, '-m', 'hello', '-q', '1']);
      return out.length > 0;
    }, `${topic} carried`);
  } finally {
    sub.kill();
    children.delete(sub);
  }
  return out.trim();
}

describe('atbridge bridge (CLI)', () => {
  it('carries sensors/x out and cmd/y in, serves metrics, and drains and exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort();
    const bridge = startBridge([...common('cli-a', mkdtempSync(join(tmpdir(), 'atb-cli-'))), '--topic', 'sensors/# out 1', '--topic', 'cmd/# in 1',
      '--metrics', `127.0.0.1:${metricsPort}`]);
    await until(() => bridge.stderr().includes('remote connected'), 'remote connected');
    expect(await carried(localBroker.port, remoteBroker.port, 'sensors/x', 'sensors/#')).toBe('sensors/x hello');
    expect(await carried(remoteBroker.port, localBroker.port, 'cmd/y', 'cmd/#')).toBe('cmd/y hello');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('atbridge_link_up 1');
    expect(metrics).toMatch(/atbridge_messages_total\{direction="out"\} [1-9]/);
    expect(metrics).toMatch(/atbridge_queue_messages\{direction="out"\} \d+/);
    bridge.child.kill('SIGTERM');
    expect(await bridge.exited).toBe(0);
    expect(bridge.stderr()).toContain('stopped');
    const state = spawnSync('mosquitto_sub', ['-p', String(remoteBroker.port), '-t', 'atbridge/cli-a/state', '-C', '1', '-W', '5']);
    expect(state.stdout.toString().trim()).toBe('0');
  }, 40_000);

  it('reloads the topic lines of its config file on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-cli-'));
    const config = join(dir, 'bridge.conf');
    writeFileSync(config, '# test bridge\ntopic first/# out 1\n');
    const bridge = startBridge([...common('cli-b', join(dir, 'q')), '--config', config]);
    await until(() => bridge.stderr().includes('remote connected'), 'remote connected');
    expect(await carried(localBroker.port, remoteBroker.port, 'first/x', 'first/#')).toBe('first/x hello');
    appendFileSync(config, 'topic second/# out 1\n');
    bridge.child.kill('SIGHUP');
    await until(() => bridge.stderr().includes('reloaded'), 'reload logged');
    expect(await carried(localBroker.port, remoteBroker.port, 'second/x', 'second/#')).toBe('second/x hello');
    bridge.child.kill('SIGTERM');
    expect(await bridge.exited).toBe(0);
  }, 40_000);

  it('killed with -9 and restarted: no QoS 1 message lost, no QoS 2 duplicated, either way', async () => {
    const queueDir = mkdtempSync(join(tmpdir(), 'atb-cli-kill-'));
    const args = [...common('cli-k', queueDir), '--topic', 'k1/# out 1', '--topic', 'k2/# out 2', '--topic', 'kin/# in 2'];
    const atRemote: Tally = await watcher(remoteBroker, ['k1/#', 'k2/#']);
    const atLocal: Tally = await watcher(localBroker, ['kin/#']);
    const localPub: MqttClient = await publisher(localBroker);
    const remotePub: MqttClient = await publisher(remoteBroker);
    try {
      let bridge = startBridge(args);
      await until(() => bridge.stderr().includes('remote connected'), 'remote connected');
      await until(async () => {
        await localPub.publish('k1/probe', 'p', { qos: 1 });
        await remotePub.publish('kin/probe', 'p', { qos: 1 });
        return atRemote.count('k1/probe p') > 0 && atLocal.count('kin/probe p') > 0;
      }, 'bridge subscribed');
      const batch = (from: number, to: number) =>
        Promise.all(
          Array.from({ length: to - from }, (_, j) => {
            const i = from + j;
            return Promise.all([
              localPub.publish('k1/t', `a-${i}`, { qos: 1 }),
              localPub.publish('k2/t', `b-${i}`, { qos: 2 }),
              remotePub.publish('kin/t', `c-${i}`, { qos: 2 }),
            ]);
          }),
        );
      await batch(0, 100);
      const sending = batch(100, 200);
      await until(() => atRemote.check(keys('k1/t', 'a', 200)).missing < 180, 'some through');
      bridge.child.kill('SIGKILL');
      await bridge.exited;
      await sending;
      await batch(200, 250); // while no bridge runs: both brokers keep them for its persistent sessions
      bridge = startBridge(args);
      const all = () => ({
        q1: atRemote.check(keys('k1/t', 'a', 250)),
        q2: atRemote.check(keys('k2/t', 'b', 250)),
        in: atLocal.check(keys('kin/t', 'c', 250)),
      });
      await until(() => all().q1.missing + all().q2.missing + all().in.missing === 0, 'everything after the restart', 40_000);
      // Markers behind everything: a late duplicate would be in by now.
      await localPub.publish('k2/t', 'end', { qos: 2 });
      await remotePub.publish('kin/t', 'end', { qos: 2 });
      await until(() => atRemote.count('k2/t end') > 0 && atLocal.count('kin/t end') > 0, 'markers');
      expect(all().q1.missing).toBe(0);
      expect(all().q2).toEqual({ missing: 0, duplicated: 0 });
      expect(all().in).toEqual({ missing: 0, duplicated: 0 });
      bridge.child.kill('SIGTERM');
      expect(await bridge.exited).toBe(0);
    } finally {
      await Promise.all([localPub.end(true), remotePub.end(true), atRemote.client.end(true), atLocal.client.end(true)]);
    }
  }, 55_000);

  it('bad input is one line and a usage exit code; --print-config masks secrets', () => {
    const bad = spawnSync(process.execPath, [CLI, 'bridge', '--remote', 'mqtt://127.0.0.1:1', '--topic', 'a/# sideways 1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.toString()).toMatch(/^atbridge: bad topic line "a\/# sideways 1": direction must be out, in or both/);
    expect(bad.stderr.toString()).not.toMatch(/\n\s+at /);
    const noRemote = spawnSync(process.execPath, [CLI, 'bridge', '--topic', 'a/#']);
    expect(noRemote.status).toBe(2);
    expect(noRemote.stderr.toString()).toContain('no remote broker given');
    const printed = spawnSync(process.execPath, [CLI, 'bridge', '--remote', 'mqtts://pi:s3cret@example.com', '--remote-username', 'pi',
      '--remote-password', 's3cret', '--topic', 'a/# out 1', '--print-config']);
    expect(printed.status).toBe(0);
    expect(printed.stdout.toString()).not.toContain('s3cret');
    expect(printed.stdout.toString()).toContain('remote_password ***');
    expect(printed.stdout.toString()).toContain('remote mqtts://example.com:8883');
  });

  it('--print-config checks everything first, prints the settings in effect with every secret as ***, and reads back', () => {
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [CLI, 'bridge', '--remote', 'mqtt://127.0.0.1:1', ...args, '--print-config'], { env: { ...process.env, ...env } });
    for (const topic of ['sensors/# sideways 1', '# out x', '', 'a b c d e f']) {
      const bad = cli(['--topic', topic]);
      expect(bad.status, topic).toBe(2);
      expect(bad.stdout.toString()).toBe('');
      expect(bad.stderr.toString()).toMatch(/^atbridge: bad topic line "[^"\n]*": /);
    }
    const dir = mkdtempSync(join(tmpdir(), 'atb-print-cli-'));
    const printed = cli(['--connection', 'gw', '--local', 'mqtt://lu:urlsecret@127.0.0.1', '--remote-username', 'u', '--topic', 'a/# out 1'], {
      ATBRIDGE_REMOTE_PASSWORD: 'envsecret',
      ATBRIDGE_QUEUE_DIR: join(dir, 'q'),
    });
    expect(printed.status).toBe(0);
    const text = printed.stdout.toString();
    expect(text).not.toMatch(/envsecret|urlsecret/);
    expect(text).toContain('\nremote_password ***\n');
    expect(text).toContain('\nlocal_password ***\n');
    for (const line of ['remote_clientid atbridge-gw', 'local_clientid atbridge-local-gw', `queue_dir ${join(dir, 'q')}`, 'notification_topic atbridge/gw/state', 'status_topic atbridge/gw/status', 'restart_timeout 5 30']) {
      expect(text.split('\n')).toContain(line);
    }
    // The printed text is a config file: read back it prints the same (the *** now being the password).
    writeFileSync(join(dir, 'printed.conf'), text);
    const again = spawnSync(process.execPath, [CLI, 'bridge', '--config', join(dir, 'printed.conf'), '--print-config']);
    expect(again.stderr.toString()).toBe('');
    expect(again.stdout.toString()).toBe(text);
  });
});
