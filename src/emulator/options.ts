import { AtbridgeError, ExitCode } from '../errors.js';
import { dialectIds, findDialect, oneOf } from './dialects.js';
import { parseFaultSpecs, type ScheduledFault } from './faults.js';

/** A Wi-Fi access point the emulated ESP-AT module can see and join. */
export interface AccessPoint {
  ssid: string;
  password: string;
  rssi?: number;
  /**
   * How a join to this AP fails even with the right password, as `+CWJAP:<code>`:
   * 1 = the AP never answers (the join times out), 4 = the AP refuses the connection.
   */
  failCode?: 1 | 4;
}

/** The emulated SIM: ready, asking for its PIN, missing, or busy (still initialising). */
export type SimState = 'ready' | 'pin' | 'missing' | 'busy';

/** Faults a test, the CLI or a URL can inject. */
export type Fault =
  | { kind: 'reboot'; offMs?: number }
  | { kind: 'peer-close' }
  | { kind: 'network-lost' }
  | { kind: 'registration-lost'; ms?: number }
  | { kind: 'busy'; ms: number }
  | { kind: 'drop-final'; count?: number }
  | { kind: 'delay-final'; ms: number }
  | { kind: 'corrupt'; rate: number }
  | { kind: 'stuck-transparent' }
  | { kind: 'wrong-baud'; baud: number }
  | { kind: 'silent' }
  | { kind: 'unplug'; ms?: number }
  | { kind: 'clear' };

/** Everything an emulated module can be told (also as `emu:<family>?key=value` URL options). */
export interface EmulatorOptions {
  /** The emulated family: a dialect id from dialects.ts (also the firmware profile it reads). */
  profile: string;
  /** The module's UART rate. */
  baud: number;
  /** Pace bytes at the line rate (10 bits per byte for 8N1). Off for fast unit tests. */
  pacing: boolean;
  /** Time the module takes before it answers a command. */
  latencyMs: number;
  /** Network round trip for TCP connects and data through the module's sockets. */
  rttMs: number;
  /** Time from power-on to the banner. */
  bootMs: number;
  echo: boolean;
  sim: SimState;
  pin: string;
  /** Registration: searching for this long after boot, then registered. */
  registerAfterMs: number;
  apn: string | undefined;
  accessPoints: AccessPoint[];
  /** Wi-Fi join time. */
  joinMs: number;
  /** How long a join to an AP that never answers takes to fail with +CWJAP:1 (ESP-AT default 15 s). */
  joinTimeoutMs: number;
  /** Hosts sockets may reach besides loopback. */
  allowHosts: string[];
  /** Firmware version the module reports (default: the profile's emulator identity). */
  firmware?: string;
  /** Wi-Fi: names AT+CIPDOMAIN / AT+PING / AT+CIPSTART resolve (`localhost` and IP literals always do). */
  dns?: Record<string, string>;
  /** ESP-AT: credentials stored in flash for this SSID, so the module joins it at every boot. */
  autoJoin?: string;
  /** Faults present from power-on. */
  faults: Fault[];
  /** Faults injected while the module runs (`fault=reboot@30s,every=20s`). */
  schedule?: ScheduledFault[];
  /** Cellular: the IMEI (default: the one in the profile's identification). */
  imei?: string;
  /** Cellular: the SIM's IMSI (AT+CIMI) and ICCID. */
  imsi: string;
  iccid: string;
  /** Cellular: the SMS service centre the SIM holds (AT+CSCA?). */
  smsc: string;
}

export const DEFAULT_OPTIONS: Omit<EmulatorOptions, 'profile'> = {
  baud: 115200,
  pacing: true,
  latencyMs: 0,
  rttMs: 0,
  bootMs: 0,
  echo: true,
  sim: 'ready',
  pin: '1234',
  registerAfterMs: 0,
  apn: undefined,
  accessPoints: [{ ssid: 'atbridge-lab', password: 'correct horse', rssi: -52 }],
  joinMs: 20,
  joinTimeoutMs: 15_000,
  allowHosts: [],
  faults: [],
  // MCC 001 / MNC 01 is the test network (ITU-T E.212); the ICCID's issuer 89 882 is "no real operator".
  imsi: '001019876543210',
  iccid: '8988211000000000001',
  smsc: '+10000000000',
};

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
  'baud', 'pacing', 'latency', 'rtt', 'boot', 'echo', 'sim', 'pin', 'register', 'apn', 'ssid', 'password', 'ap',
  'unreachable', 'refuse', 'jointime', 'jointimeout', 'allow', 'firmware', 'autojoin', 'fault', 'every', 'times', 'dns',
  'imei', 'imsi', 'iccid',
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

/** Every fault, as written. */
export const FAULT_SYNTAX = 'reboot[:off-ms], peer-close, network-lost, registration-lost[:ms], busy:ms, drop-final[:n], delay-final:ms, corrupt:rate, stuck-transparent, wrong-baud:rate, silent, unplug[:ms], clear';

/** `busy:3000`, `corrupt:0.01`, `wrong-baud:9600`, `reboot`, … */
export function parseFault(text: string): Fault {
  const [kind, arg] = text.split(':', 2);
  const num = (min: number, max: number) => {
    const n = Number(arg);
    if (arg === undefined || !Number.isFinite(n) || n < min || n > max) throw bad('fault', text, `${kind}:<number ${min}..${max}>`);
    return n;
  };
  switch (kind) {
    case 'peer-close': case 'network-lost': case 'stuck-transparent': case 'silent': case 'clear':
      if (arg !== undefined) throw bad('fault', text, `${kind} (it takes no value)`);
      return { kind };
    case 'reboot': return arg === undefined ? { kind } : { kind, offMs: num(0, 600_000) };
    case 'unplug': return arg === undefined ? { kind } : { kind, ms: num(0, 600_000) };
    case 'registration-lost': return arg === undefined ? { kind } : { kind, ms: num(0, 3_600_000) };
    case 'busy': return { kind, ms: num(1, 600_000) };
    case 'drop-final': return arg === undefined ? { kind } : { kind, count: num(1, 1000) };
    case 'delay-final': return { kind, ms: num(1, 600_000) };
    case 'corrupt': return { kind, rate: num(0, 1) };
    case 'wrong-baud': return { kind, baud: num(300, 5_000_000) };
    default:
      throw bad('fault', text, FAULT_SYNTAX);
  }
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
