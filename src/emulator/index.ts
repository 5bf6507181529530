import { getProfile } from '../profile/index.js';
import { Wire } from '../transport/pair-link.js';
import type { HostEnd } from '../transport/pair-link.js';
import { getDialect, profileOf } from './dialects.js';
import { checkStartFaults, FaultSchedule } from './faults.js';
import { DEFAULT_OPTIONS, type EmulatorOptions, type Fault } from './options.js';
import type { ModulePort } from './port.js';
import { VirtualModule } from './virtual-module.js';

export type { AccessPoint, EmulatorOptions, Fault, SimState } from './options.js';
export { checkAutoJoin, parseAccessPoint, parseDnsEntry, parseEmulatorUrl, parseFault, withFailures, DEFAULT_OPTIONS, URL_OPTIONS } from './options.js';
export { VirtualModule } from './virtual-module.js';
export { checkStartFaults, FaultSchedule, LIVE_ONLY, parseDuration, parseFaultSpec, parseFaultSpecs, type ScheduledFault } from './faults.js';
export { DIALECTS, dialectIds, findDialect, getDialect, type Dialect } from './dialects.js';

export interface EmulatorHandle {
  /** The host's end: a Link like any serial port. */
  link: HostEnd;
  module: VirtualModule;
  wire: Wire;
  /** Applies a fault to the running module; returns what it did. */
  inject(fault: Fault): string;
  close(): Promise<void>;
}

/** Builds a virtual module on any port (wire, pty, TCP) and powers it on. */
export function createVirtualModule(port: ModulePort, given: EmulatorOptions, wire?: Wire): VirtualModule {
  const dialect = getDialect(given.profile);
  const options = given.firmware === undefined && dialect.firmware !== undefined ? { ...given, firmware: dialect.firmware } : given;
  const profile = getProfile(profileOf(dialect));
  let module!: VirtualModule;
  checkStartFaults(options.faults);
  const corrupt = (rate: number) => {
    if (wire) wire.corruptionRate = rate;
    else port.setCorruption?.(rate);
  };
  const onFault = (fault: Fault): string | void => {
    switch (fault.kind) {
      case 'corrupt':
        corrupt(fault.rate);
        return `corrupting ${fault.rate} of the bytes`;
      case 'wrong-baud':
        port.setBaud(fault.baud);
        return `the UART runs at ${fault.baud}`;
      case 'clear':
        corrupt(0);
        return;
      case 'unplug':
        return port.unplug ? port.unplug(fault.ms ?? 1000) : 'an in-process line cannot be unplugged (use --pty or --listen)';
      case 'registration-lost':
        if (handler.loseRegistration) {
          handler.loseRegistration(fault.ms ?? 10_000);
          return `registration lost for ${fault.ms ?? 10_000} ms`;
        }
        return module.inject({ kind: 'network-lost' });
      default:
        return;
    }
  };
  module = new VirtualModule(port, profile, options, onFault);
  const handler = dialect.create(module, options);
  module.setHandler(handler);
  // A dead or mis-clocked module is so from power-on (no banner); passthrough is entered after boot.
  const stuck = options.faults.filter((f) => f.kind === 'stuck-transparent');
  for (const fault of options.faults) if (fault.kind !== 'stuck-transparent') module.inject(fault);
  module.powerOn(stuck.length === 0);
  for (const fault of stuck) module.inject(fault);
  if (options.schedule?.length) {
    const schedule = new FaultSchedule(options.schedule, (fault) => void module.inject(fault));
    module.once('close', () => schedule.stop());
  }
  return module;
}

/** An emulated module on an in-process wire: `emu:sim7600` / `emu:esp-at`. */
export function startEmulator(partial: Partial<EmulatorOptions> & Pick<EmulatorOptions, 'profile'>): EmulatorHandle {
  const options: EmulatorOptions = { ...DEFAULT_OPTIONS, ...partial };
  const wire = new Wire({ baud: options.baud, pacing: options.pacing, description: `emu:${options.profile}`, ...(options.noiseSeed !== undefined ? { seed: options.noiseSeed } : {}) });
  const module = createVirtualModule(wire.module, options, wire);
  return {
    link: wire.host,
    module,
    wire,
    inject: (fault) => module.inject(fault),
    async close() {
      module.close();
      await wire.host.close();
    },
  };
}
