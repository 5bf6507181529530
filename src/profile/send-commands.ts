import { listProfileIds, loadProfile } from './load.js';
import type { Profile } from './schema.js';

/** A socket send command read off a profile's `socketSend` template: `AT+CASEND={link},{len}`. */
export interface SocketSendCommand {
  /** The command up to '=' (upper case): `AT+CASEND`. */
  name: string;
  /** Argument positions (0-based) of the link and the length; link -1 = single-link firmware. */
  linkArg: number;
  lenArg: number;
}

/** The `socketSend` templates of one profile and its quirks. */
export function socketSendsOf(profile: Profile): SocketSendCommand[] {
  const sends = [profile.commands['socketSend']?.send, ...profile.quirks.map((q) => q.commands?.['socketSend']?.send)];
  const out: SocketSendCommand[] = [];
  for (const send of sends) {
    if (typeof send !== 'string' || !send.includes('=')) continue;
    const eq = send.indexOf('=');
    const args = send.slice(eq + 1).split(',');
    const lenArg = args.findIndex((a) => a.includes('{len}'));
    if (lenArg < 0) continue;
    out.push({ name: send.slice(0, eq).toUpperCase(), linkArg: args.findIndex((a) => a.includes('{link}')), lenArg });
  }
  return out;
}

let shipped: SocketSendCommand[] | undefined;

/** The union over every shipped profile (a trace is decoded before its family is known). */
export function shippedSocketSends(): SocketSendCommand[] {
  if (shipped) return shipped;
  const seen = new Map<string, SocketSendCommand>();
  for (const id of listProfileIds()) for (const c of socketSendsOf(loadProfile(id))) if (!seen.has(c.name)) seen.set(c.name, c);
  shipped = [...seen.values()];
  return shipped;
}
