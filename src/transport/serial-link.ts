import { SerialPort } from 'serialport';
import { AtbridgeError, EndCode, ExitCode } from '../errors.js';
import type { LinkCapabilities, LinkSignals, SerialFraming } from './link.js';
import { DEFAULT_FRAMING, LinkBase } from './link.js';
import type { PortHolder } from './port-holders.js';
import { describeHolders, findPortHolders, isModemManager, MODEMMANAGER_FIX } from './port-holders.js';

export interface SerialLinkOptions {
  path: string;
  baud: number;
  framing?: Partial<SerialFraming>;
  /** Initial DTR/RTS levels; undefined leaves the driver's default (asserted). */
  signals?: LinkSignals;
  /** Refuse a port another process already has open (default true: two readers split the bytes). */
  exclusive?: boolean;
}

/** A serial device through the `serialport` package (USB modems, UARTs, socat ptys). */
export class SerialLink extends LinkBase {
  readonly description: string;
  private port: SerialPort | undefined;
  private currentBaud: number;
  private dtrWorks = true;

  private constructor(private readonly options: SerialLinkOptions) {
    super();
    this.description = options.path;
    this.currentBaud = options.baud;
  }

  static async open(options: SerialLinkOptions): Promise<SerialLink> {
    const link = new SerialLink(options);
    await link.openPort();
    return link;
  }

  get capabilities(): LinkCapabilities {
    return { baud: true, dtr: this.dtrWorks };
  }
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }
  get baud(): number {
    return this.currentBaud;
  }
  get path(): string {
    return this.options.path;
  }

  private async openPort(): Promise<void> {
    const { path } = this.options;
    if (this.options.exclusive !== false) {
      const holders = await findPortHolders(path);
      if (holders.length > 0) throw busyError(path, holders);
    }
    const framing = { ...DEFAULT_FRAMING, ...this.options.framing };
    const port = new SerialPort({
      path,
      baudRate: this.options.baud,
      dataBits: framing.dataBits,
      parity: framing.parity,
      stopBits: framing.stopBits,
      rtscts: framing.rtscts,
      autoOpen: false,
      lock: true,
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw await explainOpenError(path, err);
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    let failure: Error | undefined;
    port.on('error', (err: Error) => {
      // EIO / ENXIO after an unplug, EBADF: the port is unusable; closing it emits the one 'close'.
      failure ??= err;
      if (port.isOpen) port.close(() => undefined);
      else if (this.port === port) this.closedBy(port, failure);
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => this.closedBy(port, err ?? failure));
    if (this.options.signals) await this.setSignals(this.options.signals).catch(() => undefined);
  }

  private closedBy(port: SerialPort, err: Error | undefined): void {
    if (this.port !== port) return;
    this.port = undefined;
    this.emit('close', err);
  }

  write(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new AtbridgeError(EndCode.linkClosed, `${this.description} is closed`));
    return new Promise((resolve, reject) => {
      const closed = (err: Error) => reject(new AtbridgeError(EndCode.linkClosed, `${this.description}: ${err.message}`, { cause: err }));
      port.write(data, (err) => {
        if (err) return closed(err);
        port.drain((drainErr) => (drainErr ? closed(drainErr) : resolve()));
      });
    });
  }

  override async setBaud(baud: number): Promise<void> {
    const port = this.port;
    if (!port) throw new AtbridgeError(EndCode.linkClosed, `${this.description} is closed`);
    await new Promise<void>((resolve, reject) => port.update({ baudRate: baud }, (err) => (err ? reject(err) : resolve())));
    this.currentBaud = baud;
  }

  override async setSignals(signals: LinkSignals): Promise<void> {
    const port = this.port;
    if (!port) throw new AtbridgeError(EndCode.linkClosed, `${this.description} is closed`);
    const set: { dtr?: boolean; rts?: boolean } = {};
    if (signals.dtr !== undefined) set.dtr = signals.dtr;
    if (signals.rts !== undefined) set.rts = signals.rts;
    try {
      await new Promise<void>((resolve, reject) => port.set(set, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      // Pseudo-terminals refuse modem-control ioctls; remember so the escape ladder skips DTR.
      this.dtrWorks = false;
      throw new AtbridgeError('no-modem-control', `${this.description} has no DTR/RTS lines (${(err as Error).message})`);
    }
  }

  override async flush(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.flush(() => resolve()));
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
    this.closedBy(port, undefined);
  }
}

export function busyError(path: string, holders: PortHolder[], cause?: unknown): AtbridgeError {
  const mm = holders.some(isModemManager);
  const who = holders.length > 0 ? `held by ${describeHolders(holders)}` : 'held by another process';
  return new AtbridgeError(mm ? 'modemmanager-holds-port' : 'port-busy', `${path} is busy: ${who}`, {
    exitCode: ExitCode.portBusy,
    fix: mm
      ? MODEMMANAGER_FIX
      : 'close the other program (a terminal such as picocom or minicom, or another atbridge); ' +
        'if it is ModemManager, mark the modem with the udev ID_MM_DEVICE_IGNORE rule',
    cause,
    detail: { holders },
  });
}

/** Turns the OS's open failure into one line a person can act on. */
export async function explainOpenError(path: string, err: unknown): Promise<AtbridgeError> {
  const message = err instanceof Error ? err.message : String(err);
  if (/ENOENT|No such file/i.test(message)) {
    return new AtbridgeError('port-missing', `${path} does not exist`, {
      exitCode: ExitCode.portMissing,
      fix: 'check the cable and the name; `atbridge ports` lists the serial ports this machine has',
      cause: err,
    });
  }
  if (/EACCES|Permission denied/i.test(message)) {
    return new AtbridgeError('port-permission', `permission denied opening ${path}`, {
      exitCode: ExitCode.portPermission,
      fix: 'add your user to the dialout group (`sudo usermod -aG dialout $USER`) and log in again',
      cause: err,
    });
  }
  // A file or another device given as the port: the serial settings (ioctl) are what fail.
  if (/ENOTTY|Inappropriate ioctl/i.test(message)) {
    return new AtbridgeError('wrong-port', `${path} is not a serial port`, {
      exitCode: ExitCode.failure,
      fix: 'give the modem\'s tty (/dev/ttyUSB2, /dev/serial/by-id/…); `atbridge ports` lists them',
      cause: err,
    });
  }
  if (/lock|EBUSY|busy|Resource temporarily unavailable/i.test(message)) {
    return busyError(path, await findPortHolders(path), err);
  }
  return new AtbridgeError('port-open-failed', `cannot open ${path}: ${message}`, { exitCode: ExitCode.failure, cause: err });
}
