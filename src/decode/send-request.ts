import { shippedSocketSends } from '../profile/send-commands.js';

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

const SOCKET_SEND = /^AT\+(?:CIPSEND|CIPSENDEX|CIPSENDBUF|CIPQSEND|CIPSENDL)\b/i;
const OTHER_PAYLOAD = /^AT\+(?:CCERTDOWN|FSWRITE|HTTPDATA|CMQTTTOPIC|CMQTTPAYLOAD|CMQTTSUBTOPIC|CMQTTWILLTOPIC|CMQTTWILLMSG|MQTTPUBRAW|CIPSENDL)\b/i;

/**
 * Reads a send command: `AT+CIPSEND=0,5` (link 0, 5 bytes), `AT+CIPSEND=5` (single link),
 * `AT+CIPSEND=0,` (until Ctrl-Z), `AT+CIPSEND` (ESP passthrough), `AT+CIPOPEN=0,…` (the link a
 * transparent CONNECT opens). Other commands that take a payload report their length only.
 */
export function sendRequestOf(command: string): SendRequest | undefined {
  const text = command.trim();
  const args = text.includes('=') ? text.slice(text.indexOf('=') + 1).split(',') : [];
  if (SOCKET_SEND.test(text)) {
    if (args.length === 0) return { command: text, link: '0', length: undefined, socket: true, passthrough: true };
    const nums = args.map((a) => a.trim());
    if (nums.length >= 2) {
      const length = nums[1] === '' ? undefined : Number(nums[1]);
      return { command: text, link: nums[0] || '0', length: Number.isFinite(length) ? length : undefined, socket: true, passthrough: false };
    }
    const length = Number(nums[0]);
    return { command: text, link: '0', length: Number.isFinite(length) ? length : undefined, socket: true, passthrough: false };
  }
  const named = profileSend(text, args);
  if (named) return named;
  if (/^AT\+CIPOPEN=/i.test(text)) return { command: text, link: args[0]?.trim() || '0', length: undefined, socket: true, passthrough: false };
  if (OTHER_PAYLOAD.test(text)) {
    const last = Number(args[args.length - 1]);
    return { command: text, link: '0', length: Number.isFinite(last) && last > 0 ? last : undefined, socket: false, passthrough: false };
  }
  return undefined;
}

/** A send command a shipped profile names as its `socketSend` (`AT+CASEND=0,27`, `AT+QISEND=0,27`). */
function profileSend(text: string, args: string[]): SendRequest | undefined {
  const eq = text.indexOf('=');
  if (eq < 0) return undefined;
  const name = text.slice(0, eq).toUpperCase();
  const spec = shippedSocketSends().find((c) => c.name === name);
  if (!spec) return undefined;
  const length = Number(args[spec.lenArg]?.trim());
  // A zero length is a query (QISEND=<id>,0 reports counters), not a send.
  if (!Number.isFinite(length) || length <= 0) return undefined;
  const link = spec.linkArg >= 0 ? args[spec.linkArg]?.trim() || '0' : '0';
  return { command: text, link, length, socket: true, passthrough: false };
}
