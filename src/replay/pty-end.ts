import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPtyLinkPath } from '../emulator/pty-path.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import { SerialLink } from '../transport/serial-link.js';

export interface PtyEnd {
  /** Our end of the pair, opened with serialport. */
  link: SerialLink;
  close(): Promise<void>;
}

/** A socat pty pair: the host program opens `path`, we hold the other end. */
export async function openPtyEnd(path: string, baud: number): Promise<PtyEnd> {
  checkPtyLinkPath(path);
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-replay-'));
  const inner = join(dir, 'module');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${inner}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let spawnError: Error | undefined;
  socat.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + 5000;
  while (!(existsSync(path) && existsSync(inner))) {
    if (spawnError || socat.exitCode !== null || Date.now() > deadline) {
      socat.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      const why = spawnError ? (/ENOENT/.test(spawnError.message) ? 'socat is not installed' : spawnError.message) : stderr.trim() || 'timed out';
      throw new AtbridgeError('replay-pty', `could not create the pty ${path}: ${why}`, { exitCode: ExitCode.failure });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const link = await SerialLink.open({ path: inner, baud });
  return {
    link,
    async close() {
      await link.close().catch(() => undefined);
      if (socat.exitCode === null && socat.signalCode === null) {
        const exited = new Promise((r) => socat.once('exit', r));
        socat.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
