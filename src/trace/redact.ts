/**
 * Secrets never reach a trace or a log: Wi-Fi and MQTT passwords, SIM PINs, APN passwords.
 * Masks keep the byte count (each secret byte becomes '*') so lengths in a redacted trace
 * still add up (AT+CIPSEND=<len> and the MQTT remaining length stay right).
 */

const STAR = 0x2a;

/** Commands whose quoted arguments at these positions (0-based) are secrets. */
const SECRET_ARGUMENTS: { command: RegExp; secretArgs: number[] }[] = [
  { command: /^AT\+CWJAP(?:_CUR|_DEF)?=/i, secretArgs: [1] },
  { command: /^AT\+CWSAP(?:_CUR|_DEF)?=/i, secretArgs: [1] },
  { command: /^AT\+CPIN=/i, secretArgs: [0, 1] },
  { command: /^AT\+CPWD=/i, secretArgs: [1, 2] },
  { command: /^AT\+CGAUTH=/i, secretArgs: [3] },
  { command: /^AT\+MQTTUSERCFG=/i, secretArgs: [4] },
  { command: /^AT\+MQTTLONGPASSWORD=/i, secretArgs: [1] },
  { command: /^AT\+CMQTTCONNECT=/i, secretArgs: [5] },
];

const SENSITIVE_PREFIX = /AT\+(?:CWJAP|CWSAP|CPIN=|CPWD|CGAUTH|MQTTUSERCFG|MQTTLONGPASSWORD|CMQTTCONNECT)/i;

/** Masks the secret arguments of one AT command line (text without its line end). */
export function redactCommandLine(line: string): string {
  const rule = SECRET_ARGUMENTS.find((r) => r.command.test(line));
  if (!rule) return line;
  const eq = line.indexOf('=');
  const args = splitArgs(line.slice(eq + 1));
  let out = line.slice(0, eq + 1);
  args.forEach((arg, i) => {
    if (i > 0) out += ',';
    out += rule.secretArgs.includes(i) ? maskArg(arg) : arg;
  });
  return out;
}

function maskArg(arg: string): string {
  const quoted = arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"');
  if (quoted) return `"${'*'.repeat(arg.length - 2)}"`;
  return '*'.repeat(arg.length);
}

/** Splits AT arguments on commas outside quotes; `\"` inside quotes is ESP-AT's escape. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') inQuotes = !inQuotes;
    if (c === ',' && !inQuotes) {
      args.push(current);
      current = '';
    } else current += c;
  }
  args.push(current);
  return args;
}

/** Masks AT command secrets inside a chunk of bytes (commands and their echoes). */
function redactAtCommands(chunk: Buffer): Buffer {
  const text = chunk.toString('latin1');
  if (!SENSITIVE_PREFIX.test(text)) return chunk;
  const redacted = text.replace(/AT\+[A-Z_]+=[^\r\n]*/gi, (line) => redactCommandLine(line));
  return redacted === text ? chunk : Buffer.from(redacted, 'latin1');
}

/**
 * Masks the password (and nothing else) of every MQTT CONNECT packet found in the chunk.
 * Finds the protocol name ("MQTT" or "MQIsdp") and walks back to the fixed header.
 */
export function redactMqttConnect(chunk: Buffer): Buffer {
  let out: Buffer | undefined;
  for (const name of ['MQTT', 'MQIsdp']) {
    const marker = Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name, 'latin1')]);
    let from = 0;
    for (;;) {
      const at = chunk.indexOf(marker, from);
      if (at < 0) break;
      from = at + 1;
      const start = findConnectStart(chunk, at);
      if (start < 0) continue;
      const range = passwordRange(chunk, at + marker.length);
      if (!range) continue;
      out ??= Buffer.from(chunk);
      out.fill(STAR, range[0], range[1]);
    }
  }
  return out ?? chunk;
}

/** The fixed header (0x10 then 1-4 length bytes) must sit right before the protocol name. */
function findConnectStart(chunk: Buffer, nameAt: number): number {
  for (let lenBytes = 1; lenBytes <= 4; lenBytes++) {
    const start = nameAt - 1 - lenBytes;
    if (start < 0) break;
    if (chunk[start] !== 0x10) continue;
    let ok = true;
    for (let i = 0; i < lenBytes; i++) {
      const b = chunk[start + 1 + i]!;
      const last = i === lenBytes - 1;
      if (last ? (b & 0x80) !== 0 : (b & 0x80) === 0) ok = false;
    }
    if (ok) return start;
  }
  return -1;
}

/** [start, end) of the password bytes in a CONNECT whose variable header starts at `p`. */
function passwordRange(buf: Buffer, p: number): [number, number] | undefined {
  const level = buf[p];
  const flags = buf[p + 1];
  if (level === undefined || flags === undefined || (flags & 0x40) === 0) return undefined;
  let i = p + 4; // level, flags, keepalive(2)
  if (level === 5) {
    const props = readVarint(buf, i);
    if (!props) return undefined;
    i = props.next + props.value;
  }
  const skipString = (): boolean => {
    if (i + 2 > buf.length) return false;
    i += 2 + buf.readUInt16BE(i);
    return i <= buf.length;
  };
  if (!skipString()) return undefined; // client id
  if (flags & 0x04) {
    if (level === 5) {
      const props = readVarint(buf, i);
      if (!props) return undefined;
      i = props.next + props.value;
    }
    if (!skipString() || !skipString()) return undefined; // will topic, will payload
  }
  if (flags & 0x80 && !skipString()) return undefined; // username
  if (i + 2 > buf.length) return undefined;
  const len = buf.readUInt16BE(i);
  const end = Math.min(buf.length, i + 2 + len);
  return [i + 2, end];
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    const b = buf[at + i];
    if (b === undefined) return undefined;
    value += (b & 0x7f) * mult;
    mult *= 128;
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

export class Redactor {
  private readonly secrets: Buffer[];

  constructor(secrets: (string | undefined)[] = []) {
    this.secrets = secrets
      .filter((s): s is string => typeof s === 'string' && s.length >= 3)
      .map((s) => Buffer.from(s, 'utf8'));
  }

  get longestSecret(): number {
    return this.secrets.reduce((n, s) => Math.max(n, s.length), 0);
  }

  redact(chunk: Buffer): Buffer {
    let out = redactMqttConnect(redactAtCommands(chunk));
    for (const secret of this.secrets) {
      let at = out.indexOf(secret);
      while (at >= 0) {
        if (out === chunk) out = Buffer.from(chunk);
        out.fill(STAR, at, at + secret.length);
        at = out.indexOf(secret, at + secret.length);
      }
    }
    return out;
  }

  /**
   * How many trailing bytes of `chunk` must wait for the next chunk before they can be judged:
   * an unfinished sensitive AT command line, or a tail that could begin a known secret.
   */
  holdBack(chunk: Buffer): number {
    const text = chunk.toString('latin1');
    const lastEnd = Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n'));
    const tail = text.slice(lastEnd + 1);
    const sensitive = tail.search(SENSITIVE_PREFIX);
    let hold = sensitive >= 0 && tail.length < 600 ? tail.length - sensitive : 0;
    for (const secret of this.secrets) {
      for (let n = Math.min(secret.length - 1, chunk.length); n > hold; n--) {
        if (chunk.subarray(chunk.length - n).equals(secret.subarray(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }
}

/** Per-direction redaction that keeps back the bytes a secret could still be split across. */
export class StreamRedactor {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly redactor: Redactor) {}

  push(chunk: Buffer): Buffer {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const hold = this.redactor.holdBack(data);
    this.pending = hold > 0 ? Buffer.from(data.subarray(data.length - hold)) : Buffer.alloc(0);
    return this.redactor.redact(data.subarray(0, data.length - hold));
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  flush(): Buffer {
    const data = this.pending;
    this.pending = Buffer.alloc(0);
    return this.redactor.redact(data);
  }
}
