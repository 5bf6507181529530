import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { AtbridgeError, ExitCode, errorMessage } from '../errors.js';
import { FaultSchedule, parseFaultSpec } from './faults.js';
import { FAULT_SYNTAX } from './faults.js';
import type { VirtualModule } from './virtual-module.js';

/**
 * `atbridge emulate --control PATH`: a Unix socket that takes one request per line and answers
 * one line. A request is a fault as `--fault` writes it (`reboot`, `busy:3000`,
 * `peer-close,every=5s,times=3`), `status`, or `help`. Answers: `ok <what happened>` or
 * `error <why>`.
 */
export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/** Requests longer than this are not faults: the connection is dropped. */
const MAX_REQUEST = 1024;

export async function serveControl(path: string, module: VirtualModule): Promise<ControlServer> {
  clearStaleSocket(path);
  const schedules = new Set<FaultSchedule>();
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => clients.delete(socket));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      if (pending.length > MAX_REQUEST && !pending.includes('\n')) return void socket.destroy();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const request = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (request) socket.write(`${answer(request)}\n`);
      }
    });
  });

  const answer = (request: string): string => {
    if (request === 'help') return `ok faults: ${FAULT_SYNTAX}; add @TIME, ,every=DURATION, ,times=N to schedule; status`;
    if (request === 'status') return `ok ${JSON.stringify(status(module))}`;
    try {
      const { fault, schedule } = parseFaultSpec(request);
      if (schedule) {
        const running = new FaultSchedule([schedule], (f) => void module.inject(f));
        schedules.add(running);
        return `ok scheduled ${request}`;
      }
      return `ok ${module.inject(fault)}`;
    } catch (err) {
      return `error ${errorMessage(err)}`;
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AtbridgeError('emulator-control', `cannot listen on ${path}: ${err.message}`, { exitCode: ExitCode.failure })));
    server.listen(path, () => resolve());
  });
  server.on('error', () => {});
  module.once('close', () => {
    for (const s of schedules) s.stop();
  });
  return {
    path,
    async close() {
      for (const s of schedules) s.stop();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

/** What a soak or a person asks before choosing a fault. */
export function status(module: VirtualModule): Record<string, unknown> {
  return {
    profile: module.profile.id,
    booted: module.booted,
    socket: module.socket !== undefined,
    transparent: module.inTransparentMode,
    silent: module.silent,
    rttMs: module.options.rttMs,
  };
}

/** A socket left by a killed emulator is replaced; any other file at PATH is refused. */
function clearStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new AtbridgeError('control-path-exists', `${path} exists and is not a socket: not replacing it`, {
      exitCode: ExitCode.usage,
      fix: `give --control a path that does not exist yet, or remove ${path} yourself`,
    });
  }
  unlinkSync(path);
}

/** `atbridge emulate-ctl PATH REQUEST`: sends one request, resolves with the answer line. */
export function sendControl(path: string, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let heard = '';
    const fail = (message: string, fix?: string) => {
      socket.destroy();
      reject(new AtbridgeError('emulator-control', message, { exitCode: ExitCode.failure, ...(fix ? { fix } : {}) }));
    };
    const timer = setTimeout(() => fail(`the emulator on ${path} did not answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') fail(`no emulator listens on ${path}`, `start one with atbridge emulate --control ${path} …`);
      else fail(`cannot reach the emulator on ${path}: ${err.message}`);
    });
    socket.on('connect', () => socket.write(`${request.replace(/[\r\n]/g, ' ')}\n`));
    socket.on('data', (chunk: Buffer) => {
      heard += chunk.toString('utf8');
      const nl = heard.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      resolve(heard.slice(0, nl));
    });
  });
}
