import { AtbridgeError } from '../errors.js';
import type { ModemSession, ModemSessionOptions } from './session-types.js';

export type { ModemSession, ModemSessionOptions } from './session-types.js';

/**
 * Opens the device, brings the module up (baud, sync, identify, init, attach or join)
 * and returns a session that opens TCP connections through it.
 */
export async function openModemSession(options: ModemSessionOptions): Promise<ModemSession> {
  // The state machine lands with the modem layer (issue 4); until then this says so plainly.
  throw new AtbridgeError('not-implemented', `talking through ${options.device} is not wired up yet`);
}
