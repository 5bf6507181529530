/**
 * Start-up of `sub`: milliseconds from spawning the process to its SUBSCRIBE reaching the broker,
 * for `atbridge sub` (the bundled entry, directly) and mosquitto_sub, in the same run. The broker
 * is a minimal one on loopback that answers CONNECT at once, so the figure is the client's own.
 * Standalone: `node dist/bench/startup.js [runs]`.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/version.js';

export interface StartupResult {
  client: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

const BUNDLE = join(PACKAGE_ROOT, 'dist/bin/atbridge.mjs');
/** A raw MQTT 3.1.1 client in one line: CONNECT (client id "f"), then SUBSCRIBE on CONNACK. Reads -p from argv. */
const FLOOR =
  "const p=+process.argv[process.argv.indexOf('-p')+1];const s=require('net').connect(p,'127.0.0.1');" +
  "s.write(Buffer.from([16,13,0,4,77,81,84,84,4,2,0,60,0,1,102]));" +
  "s.once('data',()=>s.write(Buffer.from([130,6,0,1,0,1,120,0])));s.on('error',()=>{})";

/** One run: spawn, wait for the SUBSCRIBE (first byte 0x82), kill. */
function once(command: string, args: string[], port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let started = 0;
    const server = net.createServer((socket) => {
      let seenConnect = false;
      socket.on('data', (data: Buffer) => {
        if (!seenConnect && data[0] === 0x10) {
          seenConnect = true;
          socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        }
        if (data.includes(0x82)) {
          const ms = performance.now() - started;
          child.kill('SIGKILL');
          socket.destroy();
          server.close();
          resolve(ms);
        }
      });
      socket.on('error', () => {});
    });
    let child: ReturnType<typeof spawn>;
    server.listen(port, '127.0.0.1', () => {
      started = performance.now();
      child = spawn(command, [...args, ...(command === process.execPath && args[0] === '-e' ? ['--'] : []), '-h', '127.0.0.1', '-p', String(port), '-t', 'bench/startup', '-q', '0'], { stdio: 'ignore' });
      child.on('error', reject);
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startupTimes(runs = 10): Promise<StartupResult[]> {
  const clients: Array<[string, string, string[]]> = [
    ['mosquitto_sub', '/usr/bin/mosquitto_sub', []],
    ['atbridge sub', process.execPath, [BUNDLE, 'sub']],
    // The floor for any Node client: node itself, a socket, CONNECT, SUBSCRIBE as literal bytes.
    ['node floor', process.execPath, ['-e', FLOOR]],
  ];
  const times = new Map<string, number[]>(clients.map(([name]) => [name, []]));
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < runs; i++) {
    for (const [name, command, args] of clients) times.get(name)!.push(await once(command, args, await freePort()));
  }
  return clients.map(([name]) => {
    const t = times.get(name)!.sort((a, b) => a - b);
    return { client: name, runs, medianMs: t[Math.floor(t.length / 2)]!, minMs: t[0]!, maxMs: t[t.length - 1]! };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv[2] ?? 10);
  for (const r of await startupTimes(runs)) {
    process.stdout.write(`${r.client.padEnd(14)} SUBSCRIBE after ${r.medianMs.toFixed(1)} ms (median of ${r.runs}; ${r.minMs.toFixed(1)}-${r.maxMs.toFixed(1)})\n`);
  }
}
