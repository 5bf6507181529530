/**
 * What an emulated module can be told, as types (and the defaults): read by every dialect and by
 * the parsers (options.ts, faults.ts), so it imports nothing of the emulator.
 */
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

/**
 * Faults over time: `reboot@30s` (once, 30 s after start), `reboot@30s,every=20s,times=5`
 * (then every 20 s, five in all), `peer-close,every=10s` (first after 10 s, for ever).
 * A fault without `@`/`every` acts from power-on.
 */
export interface ScheduledFault {
  fault: Fault;
  /** The fault as written (`reboot`, `busy:3000`), for logs and traces. */
  text: string;
  /** First time, in ms after the module started. */
  atMs: number;
  /** Repeat this often after the first (none: once). */
  everyMs?: number;
  /** How many times in all (Infinity: until the module stops). */
  times: number;
}

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
  /** The only APN the emulated operator's network accepts (`networkapn=`): a module that sets its APN before it opens the network (SIM800's CSTT) fails the open without it. */
  networkApn: string | undefined;
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
  /** Seed of the line-noise generator (`corrupt:` faults): one per direction, so the same seed flips the same bytes of each direction's stream, however the two interleave. */
  noiseSeed?: number;
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
  networkApn: undefined,
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

