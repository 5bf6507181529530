/**
 * `atbridge/emulator`: the virtual modem for your own tests. Start one on a pty (your firmware,
 * a Python script or a terminal opens the path) or on a TCP port (ser2net-style), inject faults
 * while it runs, and point a session at it. The in-process `emu:<family>?options` device string of the main
 * entry's `openModemSession` needs none of this.
 *
 * @module
 */
import { startPtyFront, startTcpFront, type RunningFront } from '../emulator/fronts.js';
import { FaultSchedule, parseFaultSpec, type ScheduledFault } from '../emulator/faults.js';
import { DEFAULT_OPTIONS, parseEmulatorUrl, parseFault, type AccessPoint, type EmulatorOptions, type Fault, type SimState } from '../emulator/options.js';

export type { AccessPoint, EmulatorOptions, Fault, ScheduledFault, SimState };
export { parseEmulatorUrl, parseFault };

/** Where the emulated module's serial line is offered. */
export type EmulatorFront =
  /** A pseudo-terminal at `path` (made with socat, which must be installed). */
  | { pty: string }
  /** A raw TCP listener (port 0 picks a free one); the newest connection is the line. */
  | { listen: { host?: string; port?: number } };

/** Options of {@link startEmulator}: the family, the front, and any emulator option. */
export type StartEmulatorOptions = Partial<EmulatorOptions> & Pick<EmulatorOptions, 'profile'> & EmulatorFront;

/** A running emulated module. */
export interface RunningEmulator {
  /** The device string a session or `atbridge` command opens: the pty path or `tcp://host:port`. */
  readonly device: string;
  /**
   * Injects a fault now (a reboot, a peer close, lost network, corruption …) and says what it
   * did. A text may carry a schedule, as the CLI's `--fault` does: `'peer-close@2s,every=5s,times=3'`.
   */
  inject(fault: Fault | string): string;
  /** Powers the module off and removes the front. */
  close(): Promise<void>;
}

/**
 * Starts an emulated module on a pty or TCP front.
 *
 * @example
 * ```ts
 * const emu = await startEmulator({ profile: 'sim7600', pty: '/tmp/ttyEMU', sim: 'missing' });
 * // your firmware opens /tmp/ttyEMU and should report "no SIM"
 * await emu.close();
 * ```
 */
export async function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  const { pty, listen, ...rest } = options as StartEmulatorOptions & { pty?: string; listen?: { host?: string; port?: number } };
  const settings: EmulatorOptions = { ...DEFAULT_OPTIONS, ...rest } as EmulatorOptions;
  let front: RunningFront;
  let device: string;
  if (pty !== undefined) {
    front = await startPtyFront(pty, settings);
    device = front.address;
  } else {
    front = await startTcpFront(listen?.host ?? '127.0.0.1', listen?.port ?? 0, settings);
    device = `tcp://${front.address}`;
  }
  const schedules: FaultSchedule[] = [];
  return {
    device,
    inject(fault) {
      if (typeof fault !== 'string') return front.module.inject(fault);
      const spec = parseFaultSpec(fault);
      if (!spec.schedule) return front.module.inject(spec.fault);
      schedules.push(new FaultSchedule([spec.schedule], (f) => void front.module.inject(f)));
      return `${spec.schedule.text} scheduled in ${spec.schedule.atMs} ms`;
    },
    async close() {
      for (const schedule of schedules) schedule.stop();
      await front.close();
    },
  };
}
