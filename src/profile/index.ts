import { loadProfile } from './load.js';
import { ModuleProfile } from './module-profile.js';

export { composeProfileJson, listBaseIds, listProfileIds, loadProfile, parseProfile, PROFILE_DIR } from './load.js';
export { ROLE_CONTRACTS } from './roles.js';
export { commandName, compareVersions, ModuleProfile } from './module-profile.js';
export type { Matched, Vars } from './module-profile.js';
export type { Profile } from './schema.js';

/** Loads, validates and compiles a profile by id or path. */
export function getProfile(idOrPath: string, firmware?: string): ModuleProfile {
  return new ModuleProfile(loadProfile(idOrPath), firmware);
}
