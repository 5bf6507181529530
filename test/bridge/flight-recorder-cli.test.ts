import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { listSegments } from '../../src/trace/segments.js';
import { EMULATED_MODULE, until } from './support.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';

let local: Mosquitto;
let remote: Mosquitto;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  [local, remote] = await Promise.all([startMosquitto(), startMosquitto()]);
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([local?.stop(), remote?.stop()]);
});

describe('bridge --trace-dir: the flight recorder on a running gateway', () => {
  it('records while bridging; SIGUSR1 and --snapshot copy the last minutes aside; decode reads the set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-fr-cli-'));
    const traceDir = join(dir, 'trace');
    const args = ['--device', EMULATED_MODULE, '--local', `mqtt://127.0.0.1:${local.port}`, '--remote', `mqtt://127.0.0.1:${remote.port}`,
      '--connection', 'fr', '--queue-dir', join(dir, 'queue'), '--topic', 'sensors/# out 1', '--trace-dir', traceDir, '--snapshot-minutes', '5'];
    const child = spawn(process.execPath, [CLI, 'bridge', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(() => log.includes('remote connected'), 'remote connected');
    spawnSync('mosquitto_pub', ['-p', String(local.port), '-t', 'sensors/fr', '-m', 'flight', '-q', '1']);
    child.kill('SIGUSR1');
    await until(() => /SIGUSR1: the last 5 min of the flight recorder copied to (\S+)/.test(log), 'the snapshot line');
    const snapshot = /copied to (\S+)/.exec(log)![1]!;
    const text = readFileSync(snapshot, 'utf8');
    expect(text.split('\n')[0]).toContain('"type":"atbridge-trace"');
    expect(text).toMatch(/AT\+C(?:IPOPEN|IPSEND)/); // the module's socket commands are in it
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    children.delete(child);

    expect(listSegments(traceDir).length).toBeGreaterThan(0);
    const decoded = spawnSync(process.execPath, [CLI, 'decode', traceDir], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(decoded.status, decoded.stderr).toBe(0);
    expect(decoded.stdout).toContain('MQTT ⇢ CONNECT');
    // --snapshot from outside the process: the same copy, and a line saying where.
    const again = spawnSync(process.execPath, [CLI, 'bridge', ...args, '--snapshot'], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/snapshots\/snapshot-.*\.jsonl: \d+ events, the last 5 min/);
    expect(readdirSync(join(traceDir, 'snapshots')).length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
