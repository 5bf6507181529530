import { AtbridgeError, ExitCode, errorMessage } from '../errors.js';
import { flightRecorder } from '../trace/flight-recorder.js';
import { TraceWriter } from '../trace/writer.js';
import { openDevice, type OpenedDevice } from '../transport/open-device.js';
import { DEFAULT_FRAMING, type SerialFraming } from '../transport/link.js';
import { TappedLink } from '../transport/tap.js';
import { openPtyFront, type PtyFront } from './pty-front.js';

export interface RecordOptions {
  /** The real port (or tcp://, emu:) the program's bytes go to. */
  device: string;
  /** Where the program opens its port: a pty link made here. */
  pty: string;
  /** Rate both ends start at, until the program sets its own. */
  baud: number;
  trace?: string;
  traceDir?: string;
  /** Secrets to mask besides what the profiles know (a Wi-Fi password, a PIN). */
  secrets?: string[];
  /** How often the program's termios is read (ms). */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface Recording {
  readonly pty: string;
  /** Bytes the program sent to the device, and the device sent back. */
  readonly counts: { tx: number; rx: number };
  /** Resolves when the device goes away (unplugged, the emulator or ser2net gone), with why. */
  readonly ended: Promise<string>;
  stop(): Promise<void>;
}

/**
 * `atbridge record`: sits between a program and a port like interceptty or `socat -v`, forwarding
 * both ways byte for byte and writing every byte to a trace (passwords masked). The program's baud
 * rate, read from the termios of the pty it opened, is applied to the real port as it changes.
 * Linux ptys have no modem-control lines, so DTR/RTS from the program cannot be seen or passed on.
 */
export async function startRecording(options: RecordOptions): Promise<Recording> {
  if (!options.trace && !options.traceDir) {
    throw new AtbridgeError('bad-option', 'record needs somewhere to write: --trace FILE or --trace-dir DIR', { exitCode: ExitCode.usage });
  }
  const log = options.log ?? (() => undefined);
  let device: OpenedDevice = await openDevice(options.device, { baud: options.baud });
  let front: PtyFront;
  try {
    front = await openPtyFront(options.pty, options.baud);
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
  const traceOptions = { device: options.device, baud: options.baud, source: `atbridge record ${options.pty}`, secrets: options.secrets ?? [] };
  const writers: TraceWriter[] = [];
  if (options.trace) writers.push(new TraceWriter(options.trace, traceOptions));
  if (options.traceDir) writers.push(flightRecorder(options.traceDir, traceOptions).writer);
  const counts = { tx: 0, rx: 0 };
  let stopped = false;
  let endWith: (why: string) => void = () => undefined;
  const ended = new Promise<string>((resolve) => (endWith = resolve));
  const report = (why: string) => {
    if (!stopped && !reopening) endWith(why);
  };
  /** Bytes from the program while the real port is reopened with new framing: sent once it is back. */
  let reopening = false;
  let held: Buffer[] = [];

  // The real port, traced. Made again when the program changes framing (a port cannot change it while open).
  const wire = (opened: OpenedDevice): TappedLink => {
    const tapped = new TappedLink(opened.link);
    for (const writer of writers) tapped.addTap(writer);
    tapped.on('data', (chunk: Buffer) => {
      counts.rx += chunk.length;
      front.link.write(chunk).catch(() => undefined); // nobody on the pty: the program reads it when it opens
    });
    tapped.on('error', (err: Error) => report(`${options.device}: ${err.message}`));
    tapped.on('close', () => {
      if (tapped === line) report(`${options.device} closed`);
    });
    return tapped;
  };
  let line = wire(device);
  const send = (chunk: Buffer) => line.write(chunk).catch((err: unknown) => report(`writing to ${options.device} failed: ${errorMessage(err)}`));

  // Both ways, in order: serialport queues writes, so no await between chunks.
  front.link.on('data', (chunk: Buffer) => {
    counts.tx += chunk.length;
    if (reopening) held.push(chunk);
    else void send(chunk);
  });
  front.link.on('error', () => undefined);

  let current = options.baud;
  let framing: SerialFraming = { ...DEFAULT_FRAMING };
  const reopenable = !/^(?:emu|tcp):/i.test(options.device);
  let polls = 0;
  let polling: Promise<void> = Promise.resolve();
  const poll = setInterval(() => {
    polling = polling.then(async () => {
      const baud = await front.baud();
      if (stopped) return;
      if (baud !== undefined && baud !== 0 && baud !== current) {
        current = baud;
        log(`the program set ${baud} baud; ${options.device} follows`);
        // The note lands in the trace between the bytes sent before and after the change.
        await line.setBaud(baud).catch((err: unknown) => line.note(`baud ${baud} could not be applied to ${options.device}: ${errorMessage(err)}`));
        await front.link.setBaud(baud).catch(() => undefined);
      }
      // Framing changes are rarer and cost a process (stty): looked at every fifth poll.
      if (polls++ % 5 !== 0) return;
      const next = await front.framing();
      if (stopped || !next || sameFraming(next, framing)) return;
      framing = next;
      const name = framingName(next);
      line.note(`framing ${name}`, { framing: next });
      if (!reopenable) {
        log(`the program set ${name}; ${options.device} keeps its own framing`);
        return;
      }
      log(`the program set ${name}; reopening ${options.device} with it`);
      reopening = true;
      try {
        await device.close().catch(() => undefined);
        device = await openDevice(options.device, { baud: current, framing: next });
        line = wire(device);
      } catch (err) {
        reopening = false;
        report(`reopening ${options.device} as ${name} failed: ${errorMessage(err)}`);
        return;
      }
      reopening = false;
      log(`${options.device} reopened as ${name}`);
      const queued = held;
      held = [];
      for (const chunk of queued) void send(chunk);
    });
  }, options.pollMs ?? 100);

  return {
    pty: front.path,
    counts,
    ended,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      await polling.catch(() => undefined);
      await front.close();
      await device.close().catch(() => undefined);
      for (const writer of writers) await writer.close();
    },
  };
}

function sameFraming(a: SerialFraming, b: SerialFraming): boolean {
  return a.dataBits === b.dataBits && a.parity === b.parity && a.stopBits === b.stopBits && a.rtscts === b.rtscts;
}

/** 8N1, 7E1, 8N1 RTS/CTS … as people write it. */
export function framingName(f: SerialFraming): string {
  return `${f.dataBits}${f.parity[0]!.toUpperCase()}${f.stopBits}${f.rtscts ? ' RTS/CTS' : ''}`;
}
