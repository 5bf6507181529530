import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoDetect, type AutoDetectTypes } from '@serialport/bindings-cpp';
import { AtbridgeError, ExitCode } from '../errors.js';
import { checkPtyLinkPath } from '../emulator/pty-path.js';
import { execFile } from 'node:child_process';
import type { SerialFraming } from '../transport/link.js';
import { SerialLink } from '../transport/serial-link.js';

type PortBinding = Awaited<ReturnType<AutoDetectTypes['open']>>;

/**
 * The program's side of `atbridge record`: a socat pty pair, PATH for the program and an inner end
 * we read and write. We also hold PATH's own tty open (never reading it): a tty has one set of
 * termios, so its baud rate as the program set it can be read here, and the pty never hangs up
 * when the program closes and reopens it.
 */
export interface PtyFront {
  readonly path: string;
  /** Our end of the pair: the program's bytes come out here, and what we write reaches it. */
  readonly link: SerialLink;
  /** The rate the program last set on PATH (termios of the tty it opened). */
  baud(): Promise<number | undefined>;
  /** Data bits, parity, stop bits and RTS/CTS as the program set them (from `stty -g`'s c_cflag). */
  framing(): Promise<SerialFraming | undefined>;
  close(): Promise<void>;
}

export async function openPtyFront(path: string, initialBaud: number): Promise<PtyFront> {
  checkPtyLinkPath(path);
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-rec-'));
  const inner = join(dir, 'inner');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${inner}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let spawnError: Error | undefined;
  socat.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const fail = (why: string): never => {
    socat.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new AtbridgeError('record-pty', `could not create the pty ${path}: ${why}`, { exitCode: ExitCode.failure });
  };
  const deadline = Date.now() + 5000;
  while (!(existsSync(path) && existsSync(inner))) {
    await new Promise((r) => setTimeout(r, 20));
    if (spawnError) fail(/ENOENT/.test(spawnError.message) ? 'socat is not installed (apt-get install socat)' : spawnError.message);
    if (socat.exitCode !== null || Date.now() > deadline) fail(stderr.trim() || 'timed out');
  }
  let watcher: PortBinding | undefined;
  let link: SerialLink | undefined;
  try {
    // lock: false, or the program could not open its own tty (TIOCEXCL).
    watcher = await autoDetect().open({ path, baudRate: initialBaud, lock: false, hupcl: false });
    link = await SerialLink.open({ path: inner, baud: initialBaud, exclusive: false });
  } catch (err) {
    await watcher?.close().catch(() => undefined);
    fail((err as Error).message);
  }
  const held = watcher!;
  return {
    path,
    link: link!,
    async baud() {
      if (!held.isOpen) return undefined;
      try {
        return (await held.getBaudRate()).baudRate;
      } catch {
        return undefined;
      }
    },
    framing: () => readFraming(path),
    async close() {
      await link!.close().catch(() => undefined);
      await held.close().catch(() => undefined);
      if (socat.exitCode === null && socat.signalCode === null) {
        socat.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Linux termios c_cflag bits (asm-generic/termbits.h). */
const CSIZE = 0o60;
const CSTOPB = 0o100;
const PARENB = 0o400;
const PARODD = 0o1000;
const CRTSCTS = 0o20000000000;

/** The framing in a tty's c_cflag, read with `stty -F PATH -g` (iflag:oflag:cflag:lflag:… in hex). */
export function framingFromStty(saved: string): SerialFraming | undefined {
  const cflag = Number.parseInt(saved.trim().split(':')[2] ?? '', 16);
  if (!Number.isFinite(cflag)) return undefined;
  const size = (cflag & CSIZE) >> 4;
  return {
    dataBits: (5 + size) as SerialFraming['dataBits'],
    parity: cflag & PARENB ? (cflag & PARODD ? 'odd' : 'even') : 'none',
    stopBits: cflag & CSTOPB ? 2 : 1,
    rtscts: (cflag & CRTSCTS) !== 0,
  };
}

function readFraming(path: string): Promise<SerialFraming | undefined> {
  return new Promise((resolve) => {
    execFile('stty', ['-F', path, '-g'], { timeout: 2000 }, (err, stdout) => resolve(err ? undefined : framingFromStty(stdout)));
  });
}
