import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtbridgeError, ExitCode } from '../errors.js';
import { SerialLink } from '../transport/serial-link.js';
import type { Tap } from '../transport/tap.js';
import { createVirtualModule } from './index.js';
import type { EmulatorOptions } from './options.js';
import { PacedPort } from './paced-port.js';
import { checkPtyLinkPath } from './pty-path.js';
import type { VirtualModule } from './virtual-module.js';

export interface RunningFront {
  module: VirtualModule;
  /** Where a person or program connects: the pty path or host:port. */
  address: string;
  close(): Promise<void>;
}

/** `atbridge emulate --pty PATH`: a socat pty pair; the user opens PATH, the module sits on the other end. */
export async function startPtyFront(path: string, options: EmulatorOptions, tap?: Tap): Promise<RunningFront> {
  checkPtyLinkPath(path);
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-emu-'));
  const inner = join(dir, 'module');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${inner}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<Error>((resolve) => socat.once('error', resolve));
  const deadline = Date.now() + 5000;
  while (!(existsSync(path) && existsSync(inner))) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
    if (failed || socat.exitCode !== null || Date.now() > deadline) {
      socat.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      const why = failed ? (/ENOENT/.test(failed.message) ? 'socat is not installed (apt-get install socat)' : failed.message) : stderr.trim() || 'timed out';
      throw new AtbridgeError('emulator-pty', `could not create the pty ${path}: ${why}`, { exitCode: ExitCode.failure });
    }
  }
  const serial = await SerialLink.open({ path: inner, baud: options.baud });
  const port = new PacedPort((data) => void serial.write(data).catch(() => {}), options.baud, options.pacing, tap);
  serial.on('data', (chunk) => port.input(chunk));
  const module = createVirtualModule(port, options);
  return {
    module,
    address: path,
    async close() {
      module.close();
      port.close();
      await serial.close().catch(() => {});
      if (socat.exitCode === null) {
        const exited = new Promise((r) => socat.once('exit', r));
        socat.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `atbridge emulate --listen HOST:PORT`: ser2net-style raw TCP; the newest connection is the line. */
export async function startTcpFront(host: string, portNumber: number, options: EmulatorOptions, tap?: Tap): Promise<RunningFront> {
  let current: net.Socket | undefined;
  const port = new PacedPort((data) => current?.write(data), options.baud, options.pacing, tap);
  const module = createVirtualModule(port, options);
  const server = net.createServer((socket) => {
    current?.destroy();
    current = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => port.input(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (current === socket) current = undefined;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AtbridgeError('emulator-listen', `cannot listen on ${host}:${portNumber}: ${err.message}`, { exitCode: ExitCode.failure })));
    server.listen(portNumber, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    module,
    address: `${address.address}:${address.port}`,
    async close() {
      module.close();
      port.close();
      current?.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
