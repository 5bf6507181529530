import type { Command } from 'commander';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { checkAutoJoin, DEFAULT_OPTIONS, dialectIds, getDialect, parseAccessPoint, parseDnsEntry, parseFaultSpecs, withFailures, type Dialect, type EmulatorOptions } from '../../emulator/index.js';
import { serveControl } from '../../emulator/faults-control.js';
import { startPtyFront, startTcpFront, type RunningFront } from '../../emulator/fronts.js';
import { checkPtyLinkPath } from '../../emulator/pty-path.js';
import { TraceWriter } from '../../trace/writer.js';
import { action, collect, intOption } from '../run.js';

interface EmulateOptions {
  profile: string;
  pty?: string;
  listen?: string;
  baud: number;
  pacing: boolean;
  latency: number;
  rtt?: number;
  boot: number;
  sim: string;
  pin: string;
  register: number;
  ssid?: string;
  password?: string;
  ap: string[];
  unreachable: string[];
  refuse: string[];
  apn?: string;
  firmware?: string;
  autojoin?: string;
  echo: boolean;
  allow: string[];
  fault: string[];
  trace?: string;
  control?: string;
  dns: string[];
  imei?: string;
  imsi: string;
  iccid: string;
}

/**
 * The network round trip `emulate` adds when --rtt is not given: a typical LTE round trip to a
 * nearby server (50–70 ms), and a home Wi-Fi LAN plus its uplink (~20 ms). In-process emulators
 * (emu:…) default to 0, for fast tests.
 */
export const DEFAULT_RTT_MS: Record<Dialect['kind'], number> = { cellular: 60, wifi: 20 };

/** `atbridge emulate`: a virtual module on a pty or a TCP port, until stopped. */
export default function register(program: Command): void {
  program
    .command('emulate')
    .description('run a virtual cellular or Wi-Fi module on a pseudo-terminal or a TCP port (sockets reach real TCP on loopback)')
    .requiredOption('--profile <id>', `the emulated family: ${dialectIds().join(', ')}`)
    .option('--pty <path>', 'create a pty at this path (socat) for picocom, minicom, screen or atbridge --device')
    .option('--listen <host:port>', 'serve the module over raw TCP, ser2net style')
    .option('--baud <rate>', 'module UART rate (pacing)', intOption('--baud', 300, 5_000_000), 115200)
    .option('--no-pacing', 'do not pace bytes at the line rate')
    .option('--latency <ms>', 'delay before each answer', intOption('--latency', 0, 60_000), 0)
    .option('--rtt <ms>', 'network round trip for socket traffic (default: 60 cellular, 20 Wi-Fi; 0 for none)', intOption('--rtt', 0, 60_000))
    .option('--boot <ms>', 'power-on time before the banner', intOption('--boot', 0, 60_000), 300)
    .option('--sim <state>', 'ready, pin, missing or busy (cellular)', 'ready')
    .option('--pin <pin>', 'the SIM PIN when --sim pin', '1234')
    .option('--register <ms>', 'searching for this long after boot, then registered', intOption('--register', 0, 3_600_000), 1500)
    .option('--ssid <ssid>', 'the access point the ESP-AT module can join', DEFAULT_OPTIONS.accessPoints[0]!.ssid)
    .option('--password <password>', 'its password', DEFAULT_OPTIONS.accessPoints[0]!.password)
    .option('--ap <ssid:password>', 'another access point it can join (repeatable)', collect, [])
    .option('--unreachable <ssid>', 'an access point whose join times out (the module answers its timeout reason code) (repeatable)', collect, [])
    .option('--refuse <ssid>', 'an access point that refuses the join (the module answers its join-failed reason code) (repeatable)', collect, [])
    .option('--autojoin <ssid>', 'credentials for this access point stored in flash: on it from every boot (ESP-AT)')
    .option('--apn <apn>', 'the APN already stored in context 1 (cellular)')
    .option('--firmware <version>', 'the firmware version it reports (exercises version quirks)')
    .option('--no-echo', 'start with echo off (real modules start with it on)')
    .option('--allow <host>', 'let sockets reach this host besides loopback (repeatable)', collect, [])
    .option('--fault <fault>', 'a fault from power-on (stuck-transparent, silent, busy:MS, wrong-baud:RATE, corrupt:RATE, …) or on a schedule (reboot@30s, peer-close,every=10s,times=3) (repeatable)', collect, [])
    .option('--dns <name=ip>', 'a name the Wi-Fi module resolves (its DNS query, ping and socket open); localhost and IP literals always do (repeatable)', collect, [])
    .option('--control <path>', 'take live faults on this Unix socket (atbridge emulate-ctl PATH reboot)')
    .option('--trace <file>', 'record what the module saw and said (JSONL)')
    .option('--imei <digits>', 'the IMEI it reports (cellular; default: the profile\'s)', digitsOption('--imei', 15, 15))
    .option('--imsi <digits>', 'the SIM\'s IMSI, AT+CIMI (cellular)', digitsOption('--imsi', 6, 15), DEFAULT_OPTIONS.imsi)
    .option('--iccid <digits>', 'the SIM\'s ICCID (cellular)', digitsOption('--iccid', 18, 20), DEFAULT_OPTIONS.iccid)
    .action(
      action(async (opts: EmulateOptions) => {
        getDialect(opts.profile, '--profile');
        if (!opts.pty === !opts.listen) {
          throw new AtbridgeError('bad-option', 'give exactly one of --pty PATH or --listen HOST:PORT', { exitCode: ExitCode.usage });
        }
        if (!['ready', 'pin', 'missing', 'busy'].includes(opts.sim)) {
          throw new AtbridgeError('bad-option', `--sim must be ready, pin, missing or busy, not "${opts.sim}"`, { exitCode: ExitCode.usage });
        }
        const { faults, schedule } = parseFaultSpecs(opts.fault);
        const listen = opts.listen === undefined ? undefined : /^(.+):(\d{1,5})$/.exec(opts.listen);
        if (listen === null || (listen && Number(listen[2]) > 65535)) {
          throw new AtbridgeError('bad-option', `--listen wants HOST:PORT, not "${opts.listen}"`, { exitCode: ExitCode.usage });
        }
        const accessPoints = withFailures(
          [{ ssid: opts.ssid ?? '', password: opts.password ?? '', rssi: -52 }, ...opts.ap.map(parseAccessPoint)],
          [...opts.unreachable.map((ssid) => ({ ssid, failCode: 1 as const })), ...opts.refuse.map((ssid) => ({ ssid, failCode: 4 as const }))],
        );
        const options: EmulatorOptions = {
          ...DEFAULT_OPTIONS,
          profile: opts.profile,
          baud: opts.baud,
          pacing: opts.pacing,
          latencyMs: opts.latency,
          rttMs: opts.rtt ?? DEFAULT_RTT_MS[getDialect(opts.profile).kind],
          bootMs: opts.boot,
          sim: opts.sim as EmulatorOptions['sim'],
          pin: opts.pin,
          registerAfterMs: opts.register,
          accessPoints,
          apn: opts.apn,
          echo: opts.echo,
          allowHosts: opts.allow,
          faults,
          ...(schedule.length > 0 ? { schedule } : {}),
          ...(opts.dns.length > 0 ? { dns: Object.assign({}, ...opts.dns.map(parseDnsEntry)) as Record<string, string> } : {}),
          imsi: opts.imsi,
          iccid: opts.iccid,
          ...(opts.imei !== undefined ? { imei: opts.imei } : {}),
          ...(opts.firmware !== undefined ? { firmware: opts.firmware } : {}),
          ...(opts.autojoin !== undefined ? { autoJoin: opts.autojoin } : {}),
        };
        checkAutoJoin(options);
        // Before the trace file is created: a refused --pty leaves nothing behind.
        if (opts.pty) checkPtyLinkPath(opts.pty);
        const trace = opts.trace
          ? new TraceWriter(opts.trace, { profile: opts.profile, baud: opts.baud, source: 'atbridge emulate', secrets: [...accessPoints.map((ap) => ap.password), opts.pin] })
          : undefined;
        let front: RunningFront;
        if (opts.pty) {
          front = await startPtyFront(opts.pty, options, trace);
        } else {
          front = await startTcpFront(listen![1]!, Number(listen![2]), options, trace);
        }
        for (const fault of faults) trace?.note(`fault ${fault.kind} from power-on`, { fault });
        for (const item of schedule) {
          const repeat = item.everyMs === undefined ? '' : `, then every ${item.everyMs} ms${Number.isFinite(item.times) ? `, ${item.times} times in all` : ''}`;
          trace?.note(`fault ${item.text} scheduled at ${item.atMs} ms${repeat}`, { fault: item.fault });
        }
        const control = opts.control ? await serveControl(opts.control, front.module).catch(async (err: unknown) => {
          await front.close();
          throw err;
        }) : undefined;
        // Listen before saying ready: a SIGTERM sent the moment "ready" arrives must still close
        // the front (socat and its link), not kill the process with socat left running.
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        process.stdout.write(`ready ${front.address}\n`);
        await stopped;
        await control?.close();
        await front.close();
        await trace?.close();
      }),
    );
}

function digitsOption(name: string, min: number, max: number): (value: string) => string {
  return (value) => {
    if (new RegExp(`^\\d{${min},${max}}$`).test(value)) return value;
    const want = min === max ? `${min} digits` : `${min} to ${max} digits`;
    throw new AtbridgeError('bad-option', `${name} wants ${want}, not "${value}"`, { exitCode: ExitCode.usage });
  };
}
