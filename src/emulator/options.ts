import { AtbridgeError, ExitCode } from '../errors.js';
import { dialectIds, findDialect, oneOf } from './dialects.js';
import { parseFaultSpecs } from './faults.js';
import { DEFAULT_OPTIONS, type AccessPoint, type EmulatorOptions, type SimState } from './option-types.js';

export type { AccessPoint, EmulatorOptions, Fault, ScheduledFault, SimState } from './option-types.js';
export { DEFAULT_OPTIONS } from './option-types.js';
export { FAULT_SYNTAX, parseFault } from './faults.js';

/** `emu:esp-at?ssid=lab&password=pw&pacing=0&fault=stuck-transparent` → options. */
export function parseEmulatorUrl(device: string): EmulatorOptions {
  const m = /^emu:([a-z0-9-]+)(?:\?(.*))?$/i.exec(device);
  if (!m || !findDialect(m[1]!)) {
    throw new AtbridgeError('bad-device', `"${device}" is not an emulator address; use ${oneOf(dialectIds().map((id) => `emu:${id}`))}`, { exitCode: ExitCode.usage });
  }
  const options: EmulatorOptions = { ...DEFAULT_OPTIONS, profile: m[1]!, accessPoints: [], allowHosts: [], faults: [] };
  const params = new URLSearchParams(m[2] ?? '');
  let ssid: string | undefined;
  let password: string | undefined;
  const failing: { ssid: string; failCode: 1 | 4 }[] = [];
  const faultTexts: string[] = [];
  for (const [key, value] of params) {
    switch (key) {
      case 'baud': options.baud = int(key, value, 300, 5_000_000); break;
      case 'pacing': options.pacing = bool(key, value); break;
      case 'latency': options.latencyMs = int(key, value, 0, 60_000); break;
      case 'rtt': options.rttMs = int(key, value, 0, 60_000); break;
      case 'boot': options.bootMs = int(key, value, 0, 60_000); break;
      case 'echo': options.echo = bool(key, value); break;
      case 'sim':
        if (!['ready', 'pin', 'missing', 'busy'].includes(value)) throw bad(key, value, 'ready, pin, missing or busy');
        options.sim = value as SimState;
        break;
      case 'pin': options.pin = value; break;
      case 'register': options.registerAfterMs = int(key, value, 0, 3_600_000); break;
      case 'apn': options.apn = value; break;
      case 'networkapn': options.networkApn = value; break;
      case 'ssid': ssid = value; break;
      case 'password': password = value; break;
      case 'ap': options.accessPoints.push(parseAccessPoint(value)); break;
      case 'unreachable': failing.push({ ssid: value, failCode: 1 }); break;
      case 'refuse': failing.push({ ssid: value, failCode: 4 }); break;
      case 'jointime': options.joinMs = int(key, value, 0, 600_000); break;
      case 'jointimeout': options.joinTimeoutMs = int(key, value, 0, 600_000); break;
      case 'allow': options.allowHosts.push(...value.split(',')); break;
      case 'firmware': options.firmware = value; break;
      case 'autojoin': options.autoJoin = value; break;
      case 'dns': options.dns = { ...options.dns, ...parseDnsEntry(value) }; break;
      case 'fault': faultTexts.push(value); break;
      case 'seed': options.noiseSeed = int(key, value, 0, 0xffffffff); break;
      // every= / times= repeat the fault given just before them.
      case 'every': case 'times':
        if (faultTexts.length === 0) throw bad(key, value, 'a fault= before it');
        faultTexts[faultTexts.length - 1] += `,${key}=${value}`;
        break;
      case 'imei': options.imei = digits(key, value, 15, 15); break;
      case 'imsi': options.imsi = digits(key, value, 6, 15); break;
      case 'iccid': options.iccid = digits(key, value, 18, 20); break;
      default:
        throw new AtbridgeError('bad-device', `unknown emulator option "${key}" in ${device.replace(/password=[^&]*/, 'password=***')}`, {
          exitCode: ExitCode.usage,
          fix: `options: ${URL_OPTIONS.join(', ')}`,
        });
    }
  }
  if (ssid !== undefined) options.accessPoints.unshift({ ssid, password: password ?? '', rssi: -50 });
  if (options.accessPoints.length === 0) options.accessPoints = DEFAULT_OPTIONS.accessPoints.map((ap) => ({ ...ap }));
  options.accessPoints = withFailures(options.accessPoints, failing);
  checkAutoJoin(options);
  const { faults, schedule } = parseFaultSpecs(faultTexts);
  options.faults = faults;
  if (schedule.length > 0) options.schedule = schedule;
  return options;
}

/** Every `emu:` query option, for help text and errors. */
export const URL_OPTIONS = [
  'baud', 'pacing', 'latency', 'rtt', 'boot', 'echo', 'sim', 'pin', 'register', 'apn', 'networkapn', 'ssid', 'password', 'ap',
  'unreachable', 'refuse', 'jointime', 'jointimeout', 'allow', 'firmware', 'autojoin', 'fault', 'every', 'times', 'dns',
  'imei', 'imsi', 'iccid', 'seed',
] as const;

/** `NAME=IPV4` for the emulated DNS (`dns=broker.example=127.0.0.1`). */
export function parseDnsEntry(text: string): Record<string, string> {
  const m = /^([A-Za-z0-9.-]+)=(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (!m) throw bad('dns', text, 'NAME=IPV4, e.g. broker.example=127.0.0.1');
  return { [m[1]!.toLowerCase()]: m[2]! };
}

/** `SSID:PASSWORD` (the first ':' separates; write a ':' in the SSID as %3A in a URL). */
export function parseAccessPoint(text: string): AccessPoint {
  const at = text.indexOf(':');
  if (at <= 0) throw bad('ap', text.replace(/:.*$/, ':***'), 'SSID:PASSWORD');
  return { ssid: text.slice(0, at), password: text.slice(at + 1), rssi: -50 };
}

/** Marks APs that fail to join (adding an AP that is seen but never joins if it is not listed). */
export function withFailures(aps: AccessPoint[], failing: readonly { ssid: string; failCode: 1 | 4 }[]): AccessPoint[] {
  const out = aps.map((ap) => ({ ...ap }));
  for (const { ssid, failCode } of failing) {
    const ap = out.find((a) => a.ssid === ssid);
    if (ap) ap.failCode = failCode;
    else out.push({ ssid, password: '', rssi: -80, failCode });
  }
  return out;
}

function int(key: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(key, value, `an integer ${min}..${max}`);
  return n;
}

function digits(key: string, value: string, min: number, max: number): string {
  if (!new RegExp(`^\\d{${min},${max}}$`).test(value)) throw bad(key, value, min === max ? `${min} digits` : `${min} to ${max} digits`);
  return value;
}

function bool(key: string, value: string): boolean {
  if (['1', 'true', 'on', 'yes'].includes(value)) return true;
  if (['0', 'false', 'off', 'no'].includes(value)) return false;
  throw bad(key, value, '0 or 1');
}

function bad(key: string, value: string, expected: string): AtbridgeError {
  return new AtbridgeError('bad-device', `emulator option ${key}="${value}" is not valid; expected ${expected}`, { exitCode: ExitCode.usage });
}

/** `autojoin` must name an access point the module can join, or it would quietly boot off Wi-Fi. */
export function checkAutoJoin(options: Pick<EmulatorOptions, 'autoJoin' | 'accessPoints'>): void {
  if (options.autoJoin === undefined) return;
  const ap = options.accessPoints.find((a) => a.ssid === options.autoJoin);
  if (ap && ap.failCode === undefined) return;
  const joinable = options.accessPoints.filter((a) => a.failCode === undefined).map((a) => a.ssid);
  throw new AtbridgeError('bad-device', `emulator option autojoin="${options.autoJoin}" is not an access point it can join`, {
    exitCode: ExitCode.usage,
    fix: `name one of: ${joinable.join(', ') || '(none)'}`,
  });
}
