import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

/**
 * The soak's module: `atbridge emulate --listen 127.0.0.1:0 --control PATH` as its own process (the
 * built CLI), its live faults sent as a person would, `atbridge emulate-ctl PATH FAULT`: the
 * documented interface is what the soak exercises, not the emulator's in-process inject().
 */
export interface SoakEmulator {
  /** host:port of the module's TCP line (ser2net style). */
  address: string;
  /** The --control socket. */
  control: string;
  /** `atbridge emulate-ctl PATH request`: resolves with what the emulator said it did; rejects with its one line. */
  ctl(request: string): Promise<string>;
  /** Non-empty when the emulator process ended by itself (it must not). */
  exits: string[];
  stop(): Promise<void>;
}

export interface SoakEmulatorOptions {
  cli: string;
  family: string;
  dir: string;
}

export async function startSoakEmulator({ cli, family, dir }: SoakEmulatorOptions): Promise<SoakEmulator> {
  const control = join(dir, 'emulator.sock');
  // The soak's module: no line pacing, no network round trip, registered and booted at once.
  const args = [cli, 'emulate', '--profile', family, '--listen', '127.0.0.1:0', '--no-pacing', '--rtt', '0', '--boot', '0', '--register', '0', '--control', control];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dir, 'emulator.log'), { flags: 'a' });
  child.stderr!.pipe(log, { end: false });
  const exits: string[] = [];
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) exits.push(`the emulator exited by itself (${code ?? signal})`);
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`atbridge emulate --profile ${family} did not say ready within 30 s`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`atbridge emulate --profile ${family} exited (${code}) before it was ready; see ${join(dir, 'emulator.log')}`));
    });
  });
  return {
    address,
    control,
    exits,
    ctl: (request) => emulateCtl(cli, control, request),
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      log.end();
    },
  };
}

/** One `atbridge emulate-ctl PATH REQUEST` run: its stdout line, or a rejection with its one stderr line. */
export function emulateCtl(cli: string, control: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'emulate-ctl', control, request], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`atbridge emulate-ctl ${request}: exit ${code}: ${err.trim()}`));
    });
  });
}
