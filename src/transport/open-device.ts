import { AtbridgeError, ExitCode } from '../errors.js';
import { parseEmulatorUrl, startEmulator, type EmulatorHandle } from '../emulator/index.js';
import type { Link, SerialFraming } from './link.js';
import { SerialLink } from './serial-link.js';
import { TcpLink } from './tcp-link.js';

export interface OpenedDevice {
  link: Link;
  /** Present for `emu:` devices: fault injection and byte counters. */
  emulator?: EmulatorHandle;
  close(): Promise<void>;
}

export interface OpenDeviceOptions {
  baud: number;
  framing?: SerialFraming;
  exclusive?: boolean;
}

/**
 * Resolves what every command's `--device` names: a serial path (`/dev/ttyUSB2`,
 * `/dev/serial/by-id/…`), `tcp://host:port` (ser2net raw mode), or `emu:sim7600` / `emu:esp-at`
 * (the built-in emulator, options after `?`). Bad strings fail with one line.
 */
export async function openDevice(device: string, options: OpenDeviceOptions): Promise<OpenedDevice> {
  if (device.startsWith('emu:')) {
    const emuOptions = parseEmulatorUrl(device);
    // The host starts at the rate it was asked for; the module at its own (a mismatch reads as garbage).
    const emulator = startEmulator(emuOptions);
    if (options.baud !== emuOptions.baud) await emulator.link.setBaud(options.baud);
    return { link: emulator.link, emulator, close: () => emulator.close() };
  }
  if (/^tcp:/i.test(device)) {
    const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d{1,5})\/?$/i.exec(device);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) {
      throw new AtbridgeError('bad-device', `"${device}" is not a TCP device; use tcp://host:port (ser2net raw port)`, { exitCode: ExitCode.usage });
    }
    const link = await TcpLink.open(m[1]!.replace(/^\[|\]$/g, ''), port);
    return { link, close: () => link.close() };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(device)) {
    throw new AtbridgeError('bad-device', `unknown device scheme in "${device}"; use a serial path, tcp://host:port, emu:sim7600 or emu:esp-at`, { exitCode: ExitCode.usage });
  }
  const link = await SerialLink.open({
    path: device,
    baud: options.baud,
    ...(options.framing ? { framing: options.framing } : {}),
    ...(options.exclusive !== undefined ? { exclusive: options.exclusive } : {}),
  });
  return { link, close: () => link.close() };
}
