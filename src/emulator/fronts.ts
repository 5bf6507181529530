import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtbridgeError, ExitCode } from '../errors.js';
import { fsReason } from '../fs-reason.js';
import { SerialLink } from '../transport/serial-link.js';
import type { Tap } from '../transport/tap.js';
import { createVirtualModule } from './index.js';
import type { EmulatorOptions, Fault } from './option-types.js';
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
  let pair: PtyPair;
  try {
    pair = await openPtyPair(path, inner, options.baud);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let current: PtyPair | undefined = pair;
  let closing = false;
  let replug: NodeJS.Timeout | undefined;
  const port = new PacedPort((data) => void current?.serial.write(data).catch(() => {}), options.baud, options.pacing, tap, options.noiseSeed);
  const attach = (p: PtyPair) => p.serial.on('data', (chunk) => port.input(chunk));
  attach(pair);
  // Unplug: the pty goes away (the user's end sees the device vanish) and comes back at PATH.
  port.unplug = (ms) => {
    if (!current) return 'already unplugged';
    const gone = current;
    current = undefined;
    void gone.close();
    replug = setTimeout(() => {
      if (closing) return;
      // Made under a temporary name and moved to PATH once the module's end is open, so a
      // program that reopens PATH the moment it is back loses nothing.
      void openPtyPair(join(dir, 'replug'), inner, options.baud, path).then(
        (p) => {
          if (closing) return void p.close();
          current = p;
          attach(p);
          tap?.note?.(`line plugged back in at ${path}`);
        },
        (err: unknown) => tap?.note?.(`could not plug the line back in: ${err instanceof Error ? err.message : String(err)}`),
      );
    }, ms);
    return `line unplugged for ${ms} ms (${path} goes away, then comes back)`;
  };
  const module = createVirtualModule(port, options);
  noteFaults(module, tap);
  return {
    module,
    address: path,
    async close() {
      closing = true;
      clearTimeout(replug);
      module.close();
      port.close();
      await current?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface PtyPair {
  serial: SerialLink;
  close(): Promise<void>;
}

/** socat with two linked ptys, and the real serialport opened on the module's end; the user's link moved to `moveTo` then. */
async function openPtyPair(path: string, inner: string, baud: number, moveTo?: string): Promise<PtyPair> {
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${inner}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<Error>((resolve) => socat.once('error', resolve));
  const deadline = Date.now() + 5000;
  while (!(existsSync(path) && existsSync(inner))) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
    if (failed || socat.exitCode !== null || Date.now() > deadline) {
      socat.kill('SIGKILL');
      const why = failed ? (/ENOENT/.test(failed.message) ? 'socat is not installed (apt-get install socat)' : failed.message) : stderr.trim() || 'timed out';
      throw new AtbridgeError('emulator-pty', `could not create the pty ${path}: ${why}`, { exitCode: ExitCode.failure });
    }
  }
  const serial = await SerialLink.open({ path: inner, baud });
  serial.on('error', () => {});
  if (moveTo) renameSync(path, moveTo);
  return {
    serial,
    async close() {
      await serial.close().catch(() => {});
      // socat removes the link it made; one moved elsewhere is removed here.
      if (moveTo) rmSync(moveTo, { force: true });
      if (socat.exitCode === null && socat.signalCode === null) {
        const exited = new Promise((r) => socat.once('exit', r));
        socat.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** `atbridge emulate --listen HOST:PORT`: ser2net-style raw TCP; the newest connection is the line. */
export async function startTcpFront(host: string, portNumber: number, options: EmulatorOptions, tap?: Tap): Promise<RunningFront> {
  let current: net.Socket | undefined;
  let unpluggedUntil = 0;
  const port = new PacedPort((data) => current?.write(data), options.baud, options.pacing, tap, options.noiseSeed);
  // Unplug: the connection drops and new ones are refused for a while (ser2net's device gone).
  port.unplug = (ms) => {
    unpluggedUntil = Date.now() + ms;
    current?.destroy();
    current = undefined;
    return `line unplugged for ${ms} ms (the TCP connection dropped; new ones are closed at once meanwhile)`;
  };
  const module = createVirtualModule(port, options);
  noteFaults(module, tap);
  const server = net.createServer((socket) => {
    if (Date.now() < unpluggedUntil) return void socket.destroy();
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
    server.once('error', (err) =>
      reject(
        new AtbridgeError('emulator-listen', `cannot listen on ${host}:${portNumber}: ${fsReason(err)}`, {
          exitCode: ExitCode.usage,
          fix: (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `pick another port, or see what holds it: ss -ltnp 'sport = :${portNumber}'` : 'give --listen an address of this machine, e.g. 127.0.0.1:PORT',
        }),
      ),
    );
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

/** Each fault goes into the trace as a note, with what it did: `fault reboot: rebooting`. */
function noteFaults(module: VirtualModule, tap: Tap | undefined): void {
  if (!tap?.note) return;
  module.on('injected', (fault: Fault, did: string) => tap.note?.(`fault ${fault.kind}: ${did}`, { fault }));
}
