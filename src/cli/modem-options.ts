import type { Command } from 'commander';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { ModemSessionOptions } from '../modem/session-types.js';
import { listProfileIds } from '../profile/index.js';
import { intOption } from './run.js';

/** The emulator devices, one per family with a firmware profile: "emu:sim7600, emu:esp-at, …". */
export function emuDevices(): string {
  return listProfileIds().map((id) => `emu:${id}`).join(', ');
}

/** The options every command that talks through a module shares. */
export function addModemOptions(cmd: Command, defaults: { device?: string } = {}): Command {
  return cmd
    .option('--device <path>', `serial device, tcp://host:port (ser2net), or emu:FAMILY, the built-in emulator (${emuDevices()})`, defaults.device)
    .option('--profile <id>', `firmware profile: ${listProfileIds().join(', ')}, auto, or a path to a profile JSON`, 'auto')
    .option('--baud <rate>', 'serial rate, or auto to probe the common rates', 'auto')
    .option('--set-baud <rate>', 'switch module and port to this rate after sync', intOption('--set-baud', 300, 5_000_000))
    .option('--baud-fallback', 'on sustained line corruption, step module and port down to the next lower rate')
    .option('--transparent', 'carry the socket in transparent (data) mode')
    .option('--recv-mode <mode>', 'push (data in URCs) or buffered (read on notice)')
    .option('--apn <apn>', 'cellular access point name')
    .option('--pin <pin>', 'SIM PIN (or ATBRIDGE_SIM_PIN)')
    .option('--wifi-ssid <ssid>', 'Wi-Fi network to join (ESP-AT)')
    .option('--wifi-password <password>', 'Wi-Fi password (or ATBRIDGE_WIFI_PASSWORD)')
    .option('--trace <file>', 'write a JSONL trace of the serial conversation (secrets masked); a new session appends')
    .option('--trace-dir <dir>', 'flight recorder: a rolling compressed trace in DIR (4 MB segments, 64 MB in all)');
}

export interface ModemCliOptions {
  device?: string;
  profile?: string;
  baud?: string;
  setBaud?: number;
  baudFallback?: boolean;
  transparent?: boolean;
  recvMode?: string;
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  trace?: string;
  traceDir?: string;
}

/** Turns parsed CLI options into session options, with one-line errors for bad values. */
export function modemSessionOptions(opts: ModemCliOptions, extra: Partial<ModemSessionOptions> = {}): ModemSessionOptions {
  if (!opts.device) {
    throw new AtbridgeError('bad-option', 'no --device given', {
      exitCode: ExitCode.usage,
      fix: 'pass --device /dev/ttyUSB2 (or tcp://host:port, emu:sim7600, emu:esp-at); `atbridge ports` lists ports',
    });
  }
  let baud: number | 'auto' = 'auto';
  if (opts.baud !== undefined && opts.baud !== 'auto') baud = intOption('--baud', 300, 5_000_000)(opts.baud);
  if (opts.recvMode !== undefined && opts.recvMode !== 'push' && opts.recvMode !== 'buffered') {
    throw new AtbridgeError('bad-option', `--recv-mode must be push or buffered, not "${opts.recvMode}"`, { exitCode: ExitCode.usage });
  }
  const result: ModemSessionOptions = { device: opts.device, baud, ...extra };
  if (opts.profile !== undefined) result.profile = opts.profile;
  if (opts.setBaud !== undefined) result.setBaud = opts.setBaud;
  if (opts.baudFallback) result.baudFallback = true;
  if (opts.transparent) result.transparent = true;
  if (opts.recvMode === 'push' || opts.recvMode === 'buffered') result.recvMode = opts.recvMode;
  if (opts.apn !== undefined) result.apn = opts.apn;
  const pin = opts.pin ?? process.env.ATBRIDGE_SIM_PIN;
  if (pin !== undefined) result.pin = pin;
  if (opts.wifiSsid !== undefined) result.wifiSsid = opts.wifiSsid;
  const wifiPassword = opts.wifiPassword ?? process.env.ATBRIDGE_WIFI_PASSWORD;
  if (wifiPassword !== undefined) result.wifiPassword = wifiPassword;
  if (opts.trace !== undefined) result.trace = opts.trace;
  if (opts.traceDir !== undefined) result.traceDir = opts.traceDir;
  return result;
}
