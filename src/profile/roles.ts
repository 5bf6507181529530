import { AtbridgeError, ExitCode } from '../errors.js';
import type { Profile } from './schema.js';

/**
 * The command roles and chat scripts the layers above run, per kind of family. A profile that
 * lacks one fails at load, naming the field, rather than at run time in the middle of a session.
 * These are the code's own words (roles), never a family's commands.
 */
export interface RoleContract {
  commands: readonly string[];
  scripts: readonly string[];
}

const EVERY_FAMILY: RoleContract = {
  commands: ['at', 'echoOff', 'socketOpen', 'socketSend', 'socketClose'],
  scripts: ['sync', 'init'],
};

export const ROLE_CONTRACTS: Record<Profile['family'], RoleContract> = {
  cellular: {
    commands: [...EVERY_FAMILY.commands, 'simStatus', 'signal', 'netOpen'],
    scripts: [...EVERY_FAMILY.scripts, 'registration', 'attach'],
  },
  wifi: {
    commands: [...EVERY_FAMILY.commands, 'wifiStatus', 'wifiJoin'],
    scripts: [...EVERY_FAMILY.scripts, 'join', 'netOpenCommand'],
  },
};

/** Roles a receive mode or a socket mode the profile claims needs. */
function conditionalRoles(profile: Profile): { field: string; role: string; because: string; script?: boolean }[] {
  const out: { field: string; role: string; because: string; script?: boolean }[] = [];
  if (profile.socket.recvModes.includes('buffered') && !profile.commands.socketRead) out.push({ field: 'commands.socketRead', role: 'socketRead', because: 'socket.recvModes has "buffered"' });
  if ((profile.socket.modes ?? ['command', 'transparent']).includes('transparent') && !profile.commands.socketOpenTransparent && !profile.commands.transparentEnter) {
    out.push({ field: 'commands.socketOpenTransparent', role: 'socketOpenTransparent (or transparentEnter)', because: 'socket.modes has "transparent"' });
  }
  if ((profile.socket.modes ?? ['command', 'transparent']).includes('transparent') && !profile.scripts.netOpenTransparent?.length) {
    out.push({ field: 'scripts.netOpenTransparent', role: 'netOpenTransparent', because: 'socket.modes has "transparent"', script: true });
  }
  return out;
}

/** Throws one clear error for the first role the profile is missing. */
export function checkRoles(profile: Profile, file: string): void {
  const contract = ROLE_CONTRACTS[profile.family];
  for (const role of contract.commands) {
    if (!profile.commands[role]) throw missing(file, `commands.${role}`, `a ${profile.family} profile needs the "${role}" command role`);
  }
  for (const script of contract.scripts) {
    if (!profile.scripts[script] || profile.scripts[script].length === 0) {
      throw missing(file, `scripts.${script}`, `a ${profile.family} profile needs the "${script}" script`);
    }
  }
  for (const c of conditionalRoles(profile)) {
    throw missing(file, c.field, `${c.because}, so the profile needs the "${c.role}" ${c.script ? 'script' : 'command role'}`);
  }
}

function missing(file: string, field: string, message: string): AtbridgeError {
  return new AtbridgeError('profile-invalid', `${file}: field ${field}: ${message}`, { exitCode: ExitCode.badInput });
}
