import type { EmulatorOptions } from './option-types.js';
import type { FamilyHandler, VirtualModule } from './virtual-module.js';

/**
 * An emulated module family: the handler that answers its commands on top of what every module
 * shares (VirtualModule). Cellular dialects build on the TS 27.007 base (3gpp-base.ts), Wi-Fi
 * dialects on their own. The id is the firmware profile the module reads (firmware-profiles/<id>.json).
 */
export interface Dialect {
  id: string;
  kind: 'cellular' | 'wifi';
  /** One line for `atbridge emulate --help` and the README table. */
  description: string;
  /** The profile the module reads; the dialect id unless a dialect shares another's data. */
  profile?: string;
  /**
   * The family's own commands beyond the TS 27.007 base, as the line a driver sends: the command
   * table (`npm run emulated-commands` → README) probes each on a fresh module.
   */
  commands?: readonly string[];
  /** The firmware version the module reports when no `firmware=` option is given (a dialect that shares another's profile). */
  firmware?: string;
  create(module: VirtualModule, options: EmulatorOptions): FamilyHandler;
}
