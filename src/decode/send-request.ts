import { type PayloadCommand, shippedDataModeOpens, shippedPayloadCommands } from '../profile/send-commands.js';

/** What a command that may get a '>' prompt asks to send. */
export interface SendRequest {
  command: string;
  /** Connection number ('0' when the firmware has a single connection). */
  link: string;
  /** Bytes the host will send; undefined = until Ctrl-Z. */
  length: number | undefined;
  /** The payload goes out on a socket (CIPSEND), rather than into a file or an MQTT buffer. */
  socket: boolean;
  /** ESP-AT `AT+CIPSEND` with no arguments: passthrough until `+++`. */
  passthrough: boolean;
}

/**
 * Reads a send command by the payload templates the shipped profiles define (`socketSend…`
 * roles and other `prompt` commands): `<send>=0,5` (link 0, 5 bytes), `<send>=5` (single link),
 * `<send>=0,` (until Ctrl-Z), a bare prompt command (passthrough until the escape), and a command
 * that opens data mode (the link a transparent CONNECT opens). Payloads that do not go to a
 * socket (an MQTT topic buffer, a certificate file) report their length only.
 */
export function sendRequestOf(command: string): SendRequest | undefined {
  const text = command.trim();
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)).toUpperCase();
  const args = eq < 0 ? [] : text.slice(eq + 1).split(',').map((a) => a.trim());
  const candidates = shippedPayloadCommands().filter((c) => c.name === name);
  if (candidates.length > 0) {
    if (args.length === 0) {
      const bare = candidates.find((c) => c.passthrough);
      return bare ? { command: text, link: '0', length: undefined, socket: true, passthrough: true } : undefined;
    }
    const spec = pick(candidates, args.length);
    if (spec) return fromTemplate(text, spec, args);
  }
  const open = shippedDataModeOpens().find((c) => c.name === name);
  if (open && args.length > 0) return { command: text, link: (open.linkArg >= 0 ? args[open.linkArg] : undefined) || '0', length: undefined, socket: true, passthrough: false };
  return undefined;
}

/**
 * The template a command line fits: the same number of arguments, or a single-link template with
 * a link number in front (ESP-AT's `AT+CIPSEND=<link>,<len>` in multi-connection mode).
 */
function pick(candidates: PayloadCommand[], arity: number): { spec: PayloadCommand; shift: boolean } | undefined {
  const exact = candidates.find((c) => !c.passthrough && c.arity === arity);
  if (exact) return { spec: exact, shift: false };
  const linked = candidates.find((c) => !c.passthrough && c.linkArg < 0 && c.arity + 1 === arity);
  if (linked) return { spec: linked, shift: true };
  // Trailing optional arguments (ESP-AT's UDP `…=<link>,<len>,"<host>",<port>`): the longest template that fits.
  const shorter = candidates.filter((c) => !c.passthrough && c.arity < arity).sort((a, b) => b.arity - a.arity)[0];
  return shorter ? { spec: shorter, shift: false } : undefined;
}

function fromTemplate(text: string, { spec, shift }: { spec: PayloadCommand; shift: boolean }, args: string[]): SendRequest | undefined {
  const at = (i: number): string | undefined => args[i + (shift ? 1 : 0)];
  const raw = at(spec.lenArg);
  const length = raw === undefined || raw === '' ? undefined : Number(raw);
  if (length !== undefined && !Number.isFinite(length)) return undefined;
  // A zero length is a query (QISEND=<id>,0 reports counters), not a send.
  if (length === 0) return undefined;
  const link = shift ? args[0] || '0' : spec.linkArg >= 0 ? at(spec.linkArg) || '0' : '0';
  return { command: text, link: spec.socket ? link : '0', length, socket: spec.socket, passthrough: false };
}

/** A command a shipped profile marks as opening data mode with CONNECT (`dataMode`, with arguments). */
export function opensDataMode(command: string): boolean {
  const text = command.trim();
  const eq = text.indexOf('=');
  if (eq < 0) return false;
  const name = text.slice(0, eq).toUpperCase();
  return shippedDataModeOpens().some((c) => c.name === name);
}
