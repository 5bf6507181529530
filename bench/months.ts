/**
 * `npm run bench:months [-- --minutes 60 --rate 5]`: "months on a Pi" compressed into one run.
 * The bridge (the built CLI, its own process) carries a steady load between two mosquittos
 * through the emulated SIM7600, with a fault now and then (module reboot, remote broker restart)
 * so the recovery paths run too. Every minute it samples the bridge's resident memory, its open
 * file descriptors and its queue files; at the end it prints the samples, the growth per hour of
 * each (a least-squares slope over the second half, after warm-up), and writes bench/months.json.
 * Figures, not a test: nothing here asserts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, MOSQUITTO } from './broker.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'src', 'cli.js');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MINUTES = arg('minutes', 60);
const RATE = arg('rate', 5); // messages per second, local → remote (QoS 1); a fifth of it back (QoS 2)
const SAMPLE_MS = arg('sample-seconds', 60) * 1000;
const FAULT_EVERY_MS = arg('fault-minutes', 5) * 60_000;

const started = Date.now();
const log = (s: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${s}\n`);

interface Sample {
  minute: number;
  rssMiB: number;
  fds: number;
  queueFiles: number;
  queueBytes: number;
  sent: number;
  received: number;
}

function startBroker(port: number, dir: string): ChildProcess {
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 1000000', ''].join('\n'));
  return spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
}

async function waitPort(port: number): Promise<void> {
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function vmRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

function walk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) {
      const sub = walk(path);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      files++;
      bytes += st.size;
    }
  }
  return { files, bytes };
}

/** Least-squares slope of y over x, per unit of x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-months-'));
  const [localPort, remotePort] = [await freePort(), await freePort()];
  let local = startBroker(localPort, dir);
  let remote = startBroker(remotePort, dir);
  await Promise.all([waitPort(localPort), waitPort(remotePort)]);
  const queueDir = join(dir, 'queue');
  const bridge = spawn(process.execPath, [
    CLI, 'bridge', '--connection', 'months', '--local', `mqtt://127.0.0.1:${localPort}`, '--remote', `mqtt://127.0.0.1:${remotePort}`,
    '--device', 'emu:sim7600?pacing=0', '--profile', 'sim7600', '--queue-dir', queueDir, '--restart-timeout', '1 10',
    '--topic', 'months/up/# out 1', '--topic', 'months/down/# in 2', '--status-interval', '30',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let bridgeLog = '';
  bridge.stderr!.on('data', (d: Buffer) => (bridgeLog = (bridgeLog + d.toString()).slice(-20_000)));
  const pid = bridge.pid!;

  // Counters on the far sides; publishers on the near sides (mosquitto's own clients).
  let received = 0;
  const counters = [
    spawn('mosquitto_sub', ['-p', String(remotePort), '-t', 'months/up/#', '-q', '1', '-c', '-i', 'months-up-counter']),
    spawn('mosquitto_sub', ['-p', String(localPort), '-t', 'months/down/#', '-q', '2', '-c', '-i', 'months-down-counter']),
  ];
  for (const c of counters) c.stdout!.on('data', (d: Buffer) => (received += d.toString().split('\n').length - 1));
  const pubUp = spawn('mosquitto_pub', ['-p', String(localPort), '-t', 'months/up/x', '-q', '1', '-l'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const pubDown = spawn('mosquitto_pub', ['-p', String(remotePort), '-t', 'months/down/x', '-q', '2', '-l'], { stdio: ['pipe', 'ignore', 'ignore'] });
  let sent = 0;
  const load = setInterval(() => {
    pubUp.stdin!.write(`up ${sent} ${'x'.repeat(40)}\n`);
    sent++;
    if (sent % 5 === 0) {
      pubDown.stdin!.write(`down ${sent}\n`);
      sent++;
    }
  }, 1000 / RATE);

  // Now and then, a fault: the remote broker restarts (the bridge's queue fills and drains).
  let faults = 0;
  const faultTimer = setInterval(() => {
    faults++;
    log(`fault ${faults}: remote broker restart`);
    remote.kill('SIGTERM');
    remote.once('exit', () => {
      setTimeout(() => (remote = startBroker(remotePort, dir)), 3000);
    });
  }, FAULT_EVERY_MS);

  const samples: Sample[] = [];
  const sample = () => {
    const q = walk(queueDir);
    const s: Sample = {
      minute: Math.round((Date.now() - started) / 6000) / 10,
      rssMiB: Math.round((vmRssKb(pid) / 1024) * 10) / 10,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      queueFiles: q.files,
      queueBytes: q.bytes,
      sent,
      received,
    };
    samples.push(s);
    log(`min ${s.minute}: RSS ${s.rssMiB} MiB, ${s.fds} fds, ${s.queueFiles} queue files (${s.queueBytes} B), ${sent} sent, ${received} received`);
  };
  await new Promise((r) => setTimeout(r, 5000));
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  await new Promise((r) => setTimeout(r, MINUTES * 60_000));
  clearInterval(sampler);
  clearInterval(load);
  clearInterval(faultTimer);
  // Let what is queued drain, so "received" can be compared with "sent".
  await new Promise((r) => setTimeout(r, 30_000));
  sample();

  const alive = bridge.exitCode === null;
  bridge.kill('SIGTERM');
  await new Promise((r) => bridge.once('exit', r));
  pubUp.stdin!.end();
  pubDown.stdin!.end();
  for (const c of counters) c.kill();
  local.kill('SIGTERM');
  remote.kill('SIGTERM');

  const half = samples.slice(Math.floor(samples.length / 2));
  const hours = half.map((s) => s.minute / 60);
  const growth = {
    rssMiBPerHour: Math.round(slope(hours, half.map((s) => s.rssMiB)) * 100) / 100,
    fdsPerHour: Math.round(slope(hours, half.map((s) => s.fds)) * 100) / 100,
    queueFilesPerHour: Math.round(slope(hours, half.map((s) => s.queueFiles)) * 100) / 100,
    queueBytesPerHour: Math.round(slope(hours, half.map((s) => s.queueBytes))),
  };
  const range = (k: keyof Sample) => [Math.min(...samples.map((s) => s[k])), Math.max(...samples.map((s) => s[k]))];
  const result = {
    minutes: MINUTES,
    ratePerSecond: RATE,
    faults,
    bridgeAlive: alive,
    sent,
    received,
    rssMiB: range('rssMiB'),
    fds: range('fds'),
    queueFiles: range('queueFiles'),
    growth,
    samples,
    host: { node: process.version, cpus: (await import('node:os')).cpus().length },
  };
  writeFileSync(join(here, '..', '..', 'bench', 'months.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ ...result, samples: undefined }, null, 2)}\n`);
  if (!alive) process.stdout.write(`the bridge exited early; its last words:\n${bridgeLog.slice(-2000)}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:months failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
