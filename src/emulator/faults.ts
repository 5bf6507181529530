import { AtbridgeError, ExitCode } from '../errors.js';
import type { Fault, ScheduledFault } from './option-types.js';

export type { ScheduledFault };

/** Every fault, as written. */
export const FAULT_SYNTAX = 'reboot[:off-ms], peer-close, network-lost, registration-lost[:ms], busy:ms, drop-final[:n], delay-final:ms, corrupt:rate, stuck-transparent, wrong-baud:rate, silent, unplug[:ms], clear';

/** `busy:3000`, `corrupt:0.01`, `wrong-baud:9600`, `reboot`, … */
export function parseFault(text: string): Fault {
  const [kind, arg] = text.split(':', 2);
  const num = (min: number, max: number) => {
    const n = Number(arg);
    if (arg === undefined || !Number.isFinite(n) || n < min || n > max) throw badFault(text, `${kind}:<number ${min}..${max}>`);
    return n;
  };
  switch (kind) {
    case 'peer-close': case 'network-lost': case 'stuck-transparent': case 'silent': case 'clear':
      if (arg !== undefined) throw badFault(text, `${kind} (it takes no value)`);
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
      throw badFault(text, FAULT_SYNTAX);
  }
}

/**
 * Faults that act on something the module only has once it runs (a session, a socket, a data
 * network, a registration): given at power-on they would do nothing, so they are refused there.
 */
export const LIVE_ONLY: ReadonlySet<Fault['kind']> = new Set(['reboot', 'peer-close', 'network-lost', 'registration-lost', 'unplug', 'clear']);

/** `30s`, `500ms`, `2m`, `1500` (ms). */
export function parseDuration(what: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw bad(`${what} "${text}" is not a duration; write 500ms, 30s or 2m`);
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  if (n > 86_400_000) throw bad(`${what} "${text}" is longer than a day`);
  return Math.round(n);
}

/** One fault with its optional schedule: `KIND[:ARG][@WHEN][,every=DUR][,times=N]`. */
export function parseFaultSpec(text: string): { fault: Fault; schedule?: ScheduledFault } {
  const [head = '', ...mods] = text.split(',');
  const at = head.indexOf('@');
  const faultText = at < 0 ? head : head.slice(0, at);
  const fault = parseFault(faultText);
  let atMs = at < 0 ? undefined : parseDuration('fault time', head.slice(at + 1));
  let everyMs: number | undefined;
  let times: number | undefined;
  for (const mod of mods) {
    const [key, value = ''] = mod.split('=', 2);
    if (key === 'every') {
      everyMs = parseDuration('every', value);
      if (everyMs < 10) throw bad(`every "${value}" is too short; give 10ms or more`);
    } else if (key === 'times') {
      times = Number(value);
      if (!Number.isInteger(times) || times < 1) throw bad(`times "${value}" is not a whole number of 1 or more`);
    } else throw bad(`"${mod}" in fault "${text}" is not every=DURATION or times=N`);
  }
  if (atMs === undefined && everyMs === undefined) {
    if (times !== undefined) throw bad(`fault "${text}" has times= but no @TIME or every=`);
    return { fault };
  }
  atMs ??= everyMs!;
  return { fault, schedule: { fault, text: faultText, atMs, ...(everyMs !== undefined ? { everyMs } : {}), times: times ?? (everyMs === undefined ? 1 : Infinity) } };
}

/** Several fault texts: those for power-on (checked) and those on a schedule. */
export function parseFaultSpecs(texts: readonly string[]): { faults: Fault[]; schedule: ScheduledFault[] } {
  const faults: Fault[] = [];
  const schedule: ScheduledFault[] = [];
  for (const text of texts) {
    const parsed = parseFaultSpec(text);
    if (parsed.schedule) schedule.push(parsed.schedule);
    else faults.push(parsed.fault);
  }
  checkStartFaults(faults);
  return { faults, schedule };
}

/** A fault given for power-on that only means something later is refused with one line. */
export function checkStartFaults(faults: readonly Fault[]): void {
  for (const fault of faults) {
    if (!LIVE_ONLY.has(fault.kind)) continue;
    throw bad(`fault ${fault.kind} means nothing at power-on (there is no session, socket or network yet)`, `schedule it (${fault.kind}@30s, or ${fault.kind},every=20s) or send it while the module runs (atbridge emulate --control PATH, then atbridge emulate-ctl PATH ${fault.kind})`);
  }
}

/** Runs scheduled faults on a module until stopped. */
export class FaultSchedule {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    items: readonly ScheduledFault[],
    private readonly inject: (fault: Fault, text: string) => void,
  ) {
    for (const item of items) this.plan(item, item.atMs, item.times);
  }

  private plan(item: ScheduledFault, delay: number, left: number): void {
    if (this.stopped || left <= 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.inject(item.fault, item.text);
      if (item.everyMs !== undefined) this.plan(item, item.everyMs, left - 1);
    }, delay);
    timer.unref?.();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

function bad(message: string, fix?: string): AtbridgeError {
  return new AtbridgeError('bad-fault', message, { exitCode: ExitCode.usage, ...(fix ? { fix } : {}) });
}


/** The URL/CLI option error, as options.ts words it for every emulator option. */
function badFault(value: string, expected: string): AtbridgeError {
  return new AtbridgeError('bad-device', `emulator option fault="${value}" is not valid; expected ${expected}`, { exitCode: ExitCode.usage });
}
