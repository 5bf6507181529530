import { listProfileIds, loadProfile } from './load.js';
import type { CommandSpecT, Profile } from './schema.js';

/**
 * A command that takes a payload after the '>' prompt, read off a profile template with `prompt`:
 * `AT+CASEND={link},{len}`, `AT+CMQTTTOPIC={client},{len}`, `AT+CIPSEND` (no arguments: passthrough).
 */
export interface PayloadCommand {
  /** The command up to '=' (upper case): `AT+CASEND`. */
  name: string;
  /** Arguments the template has (0 for a bare command). */
  arity: number;
  /** Argument positions (0-based) of the link and the length; link -1 = single-link template. */
  linkArg: number;
  lenArg: number;
  /** The payload goes out on a socket (a `socketSend…` role), rather than into a file or an MQTT buffer. */
  socket: boolean;
  /** No arguments, prompt and data mode: everything after '>' is socket data until the escape. */
  passthrough: boolean;
}

/** A command that answers CONNECT and turns the line into socket data: `AT+CIPOPEN={link},…`, `AT+CASWITCH={link},1`. */
export interface DataModeOpen {
  name: string;
  linkArg: number;
}

/** A command's fields as the readers here need them (a quirk's override may leave any out). */
interface CommandFields {
  send?: string | undefined;
  prompt?: boolean | undefined;
  dataMode?: boolean | undefined;
}

function entries(profile: Profile): [string, CommandFields][] {
  const own = Object.entries(profile.commands).filter((e): e is [string, CommandSpecT] => e[1] !== null && e[1] !== undefined);
  return [...own, ...profile.quirks.flatMap((q) => Object.entries(q.commands ?? {}) as [string, CommandFields][])];
}

function split(send: string): { name: string; args: string[] } {
  const eq = send.indexOf('=');
  if (eq < 0) return { name: send.trim().toUpperCase(), args: [] };
  return { name: send.slice(0, eq).toUpperCase(), args: send.slice(eq + 1).split(',') };
}

/** The payload commands of one profile and its quirks. */
export function payloadCommandsOf(profile: Profile): PayloadCommand[] {
  const out: PayloadCommand[] = [];
  for (const [role, spec] of entries(profile)) {
    const send = spec.send;
    if (!spec.prompt || typeof send !== 'string' || !/^AT[+*^$#%]/i.test(send)) continue;
    const { name, args } = split(send);
    const socket = /^socketSend/.test(role) || /^transparent/.test(role);
    if (args.length === 0) {
      if (spec.dataMode) out.push({ name, arity: 0, linkArg: -1, lenArg: -1, socket: true, passthrough: true });
      continue;
    }
    const lenArg = args.findIndex((a) => a.includes('{len}'));
    if (lenArg < 0) continue;
    out.push({ name, arity: args.length, linkArg: args.findIndex((a) => a.includes('{link}')), lenArg, socket, passthrough: false });
  }
  return out;
}

/** The socket send commands (`socketSend` templates) of one profile and its quirks. */
export function socketSendsOf(profile: Profile): PayloadCommand[] {
  return payloadCommandsOf(profile).filter((c) => c.socket && !c.passthrough);
}

/** Commands of one profile that open data mode with CONNECT (`dataMode`, no prompt, with arguments). */
export function dataModeOpensOf(profile: Profile): DataModeOpen[] {
  const out: DataModeOpen[] = [];
  for (const [, spec] of entries(profile)) {
    const send = spec.send;
    if (!spec.dataMode || spec.prompt || typeof send !== 'string') continue;
    const { name, args } = split(send);
    if (args.length === 0 || !/^AT[+*^$#%]/i.test(name)) continue;
    out.push({ name, linkArg: args.findIndex((a) => a.includes('{link}')) });
  }
  return out;
}

let shipped: { payloads: PayloadCommand[]; opens: DataModeOpen[] } | undefined;

/** The union over every shipped profile (a trace is decoded before its family is known). */
function shippedCommands(): { payloads: PayloadCommand[]; opens: DataModeOpen[] } {
  if (shipped) return shipped;
  const payloads = new Map<string, PayloadCommand>();
  const opens = new Map<string, DataModeOpen>();
  for (const id of listProfileIds()) {
    const p = loadProfile(id);
    for (const c of payloadCommandsOf(p)) {
      const key = `${c.name}/${c.arity}/${c.linkArg}`;
      if (!payloads.has(key)) payloads.set(key, c);
    }
    for (const c of dataModeOpensOf(p)) if (!opens.has(c.name)) opens.set(c.name, c);
  }
  shipped = { payloads: [...payloads.values()], opens: [...opens.values()] };
  return shipped;
}

export function shippedPayloadCommands(): PayloadCommand[] {
  return shippedCommands().payloads;
}

export function shippedSocketSends(): PayloadCommand[] {
  return shippedPayloadCommands().filter((c) => c.socket && !c.passthrough);
}

export function shippedDataModeOpens(): DataModeOpen[] {
  return shippedCommands().opens;
}

/** The command lines (templates) every shipped profile and its quirks give these roles: `reset` → AT+CRESET, AT+RST, AT+CREBOOT… */
export function shippedRoleSends(roles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const id of listProfileIds()) {
    for (const [role, spec] of entries(loadProfile(id))) if (roles.includes(role) && typeof spec.send === 'string') out.add(spec.send);
  }
  return [...out];
}
