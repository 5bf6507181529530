import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Broker } from './broker.js';
import { freePort } from './broker.js';
import { measureNode, steady } from './proc.js';

export interface HostCostResult {
  /** How the bytes travelled. */
  path: string;
  messages: number;
  qos: number;
  payloadBytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuUsPerMessage: number;
  /** (CPU of N − CPU of the small run) ÷ (N − small): start-up and bring-up taken out. */
  marginalCpuUsPerMessage: number | undefined;
  steadyRssMb: number | undefined;
  maxRssMb: number;
  ok: boolean;
  note?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli.js');

function lines(n: number, payloadBytes: number): Readable {
  const pad = 'x'.repeat(payloadBytes);
  function* gen(): Generator<Buffer> {
    const batch: string[] = [];
    for (let i = 0; i < n; i++) {
      const head = `{"seq":${i},"t":21.5,"p":"`;
      batch.push((head + pad).slice(0, payloadBytes - 2) + '"}');
      if (batch.length === 1000) {
        yield Buffer.from(batch.join('\n') + '\n');
        batch.length = 0;
      }
    }
    if (batch.length > 0) yield Buffer.from(batch.join('\n') + '\n');
  }
  return Readable.from(gen());
}

/** `atbridge emulate --listen` in its own process, so its CPU is not charged to the host. */
async function startEmulatorProcess(profile: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [cli, 'emulate', '--profile', profile, '--listen', `127.0.0.1:${port}`, '--no-pacing', '--boot', '0', '--register', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`emulate did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready /.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`emulate exited ${code}: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    address: `tcp://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function runPub(broker: Broker, n: number, payloadBytes: number, qos: number, device: string | undefined, modemArgs: string[]) {
  const args = [cli, 'pub', '-h', broker.host, '-p', String(broker.port), '-t', 'gw/pi-01/temp', '-q', String(qos), '-l', '-M', '200', '-i', `bench-host-${process.pid}-${n}`];
  if (device) args.push('--device', device, ...modemArgs);
  return measureNode(args, { stdin: lines(n, payloadBytes) });
}

/**
 * CPU and memory of an `atbridge pub -l` session: the CLI as a user runs it, reading lines from
 * stdin. Through a module: the emulator runs in its own process behind a TCP link (ser2net
 * style), pacing off, so only the host side's work is counted.
 */
export async function hostCost(broker: Broker, options: { messages: number; small: number; payloadBytes: number; qos: 0 | 1; via: 'module' | 'direct'; profile?: string; transparent?: boolean }): Promise<HostCostResult> {
  const emu = options.via === 'module' ? await startEmulatorProcess(options.profile ?? 'sim7600') : undefined;
  const modemArgs = ['--profile', options.profile ?? 'sim7600', '--baud', '115200', ...(options.transparent ? ['--transparent'] : [])];
  if (options.profile === 'esp-at') modemArgs.push('--wifi-ssid', 'atbridge-lab', '--wifi-password', 'correct horse');
  try {
    const small = await runPub(broker, options.small, options.payloadBytes, options.qos, emu?.address, modemArgs);
    const big = await runPub(broker, options.messages, options.payloadBytes, options.qos, emu?.address, modemArgs);
    const cpu = big.userSeconds + big.sysSeconds;
    const cpuSmall = small.userSeconds + small.sysSeconds;
    const ok = big.code === 0 && small.code === 0;
    const steadyKb = steady(big.rssSamplesKb);
    const result: HostCostResult = {
      path: options.via === 'module'
        ? `pub -l --device (${options.profile ?? 'sim7600'} ${options.transparent ? 'transparent' : 'command'} mode; emulator in its own process over TCP, pacing off)`
        : 'pub -l direct TCP (no module: MQTT layer only)',
      messages: options.messages,
      qos: options.qos,
      payloadBytes: options.payloadBytes,
      wallSeconds: big.wallSeconds,
      cpuSeconds: cpu,
      cpuUsPerMessage: (cpu * 1e6) / options.messages,
      marginalCpuUsPerMessage: options.messages > options.small ? ((cpu - cpuSmall) * 1e6) / (options.messages - options.small) : undefined,
      steadyRssMb: steadyKb === undefined ? undefined : steadyKb / 1024,
      maxRssMb: big.maxRssKb / 1024,
      ok,
    };
    if (!ok) result.note = `exit ${big.code}/${small.code}: ${(big.stderr || small.stderr).trim().split('\n').slice(-2).join(' | ')}`;
    return result;
  } finally {
    await emu?.stop();
  }
}
