/**
 * Secrets never reach a trace or a log: Wi-Fi and MQTT passwords, SIM PINs, APN passwords.
 * - In an AT command line a secret argument becomes a mask of fixed length ({@link SECRET_MASK},
 *   the quotes kept), so the trace does not tell how long the password is. Nothing counts the
 *   bytes of a command line, so the line may change length.
 * - Inside data (an MQTT CONNECT's password in socket payload, a known secret wherever it
 *   appears) each secret byte becomes '*': the byte count stays, so AT+CIPSEND=<len>, the MQTT
 *   remaining length and the field lengths still add up and the packet still decodes.
 */

import { shippedSecretCommands, splitArgs } from '../profile/secrets.js';
import { maskIdentifier, type IdentifierStream } from './identifiers.js';

const STAR = 0x2a;

/** What a secret argument of an AT command line becomes, whatever its length. */
export const SECRET_MASK = '********';

/**
 * Commands whose arguments at these positions (0-based) are secrets: read off the profiles'
 * templates (an argument carrying `{password}` or `{pin}`), never listed here.
 */
interface SecretRule {
  command: RegExp;
  name: string;
  secretArgs: number[];
}

let rules: { list: SecretRule[]; prefix: RegExp; longest: number } | undefined;

function secretRules(): { list: SecretRule[]; prefix: RegExp; longest: number } {
  if (rules) return rules;
  const list = shippedSecretCommands().map((c) => ({ command: new RegExp(`^${escapeRegex(c.prefix)}`, 'i'), name: c.prefix, secretArgs: c.secretArgs }));
  const prefix = list.length > 0 ? new RegExp(list.map((r) => escapeRegex(r.name)).join('|'), 'i') : /(?!)/;
  rules = { list, prefix, longest: list.reduce((n, r) => Math.max(n, r.name.length), 0) };
  return rules;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Masks the secret arguments of one AT command line (text without its line end). */
export function redactCommandLine(line: string): string {
  const rule = secretRules().list.find((r) => r.command.test(line));
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

/**
 * One secret argument as a fixed mask. Keeps the quotes; an argument cut short (its line not
 * finished yet) has only the opening one. The mask of a cut argument is a prefix of the mask
 * of the whole (an empty quoted argument is masked too, an empty unquoted one stays empty), so
 * a line written in pieces comes out as the whole line would.
 */
function maskArg(arg: string): string {
  if (!arg.startsWith('"')) return arg.length === 0 ? '' : SECRET_MASK;
  return `"${SECRET_MASK}${closesQuote(arg) ? '"' : ''}`;
}

/** A quoted argument that ends in its closing quote (not in an escaped `\"`). */
function closesQuote(arg: string): boolean {
  if (arg.length < 2 || !arg.endsWith('"')) return false;
  let backslashes = 0;
  for (let i = arg.length - 2; i >= 1 && arg[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** Where an unfinished line ends in what may become a sensitive command (`AT+CWJ`), or -1. */
function sensitiveStart(tail: string): number {
  const { list, prefix, longest } = secretRules();
  const full = tail.search(prefix);
  if (full >= 0) return full;
  for (let k = Math.max(0, tail.length - longest); k < tail.length; k++) {
    if (tail[k] !== 'A' && tail[k] !== 'a') continue;
    const rest = tail.slice(k).toUpperCase();
    if (list.some((r) => r.name.length > rest.length && r.name.startsWith(rest))) return k;
  }
  return -1;
}

/** Masks AT command secrets inside a chunk of bytes (commands and their echoes). */
function redactAtCommands(chunk: Buffer): Buffer {
  const text = chunk.toString('latin1');
  if (!secretRules().prefix.test(text)) return chunk;
  const redacted = text.replace(/AT\+[A-Z_]+=[^\r\n]*/gi, (line) => redactCommandLine(line));
  return redacted === text ? chunk : Buffer.from(redacted, 'latin1');
}

/** The protocol name of a CONNECT as it sits in the packet: length (2 bytes), then the name. */
const PROTOCOL_MARKERS = ['MQTT', 'MQIsdp'].map((name) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name, 'latin1')]));

/**
 * Masks the password (and nothing else) of every MQTT CONNECT packet found in the chunk.
 * Finds the protocol name ("MQTT" or "MQIsdp") and walks back to the fixed header.
 */
export function redactMqttConnect(chunk: Buffer): Buffer {
  let out: Buffer | undefined;
  for (const marker of PROTOCOL_MARKERS) {
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
  /** Identifiers (IMEI, IMSI, ICCID) the module has answered with, and what each becomes. */
  private readonly identifiers: { value: Buffer; mask: Buffer }[] = [];

  constructor(secrets: (string | undefined)[] = []) {
    this.secrets = secrets
      .filter((s): s is string => typeof s === 'string' && s.length >= 3)
      .map((s) => Buffer.from(s, 'utf8'));
  }

  get longestSecret(): number {
    return this.secrets.reduce((n, s) => Math.max(n, s.length), 0);
  }

  /** An identifier seen in an answer: from now on masked wherever it appears, ends kept (identifiers.ts). */
  learnIdentifier(value: string): void {
    if (value.length < 12 || this.identifiers.some((i) => i.value.toString('latin1') === value)) return;
    this.identifiers.push({ value: Buffer.from(value, 'latin1'), mask: Buffer.from(maskIdentifier(value), 'latin1') });
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
    for (const id of this.identifiers) {
      let at = out.indexOf(id.value);
      while (at >= 0) {
        if (out === chunk) out = Buffer.from(chunk);
        id.mask.copy(out, at);
        at = out.indexOf(id.value, at + id.value.length);
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
    const sensitive = sensitiveStart(tail);
    let hold = sensitive >= 0 && tail.length < 600 ? tail.length - sensitive : 0;
    for (const secret of [...this.secrets, ...this.identifiers.map((i) => i.value)]) {
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

/** A tx chunk that is one AT command line (the host writes each command in one piece). */
const COMMAND_CHUNK = /^AT[^\r\n]*[\r\n]+$/i;

/** Longest unfinished sensitive line held back before it is written out (masked so far). */
const MAX_HELD_LINE = 600;

/**
 * Per-direction redaction that keeps back the bytes a secret could still be split across.
 * Each byte comes out exactly once, in order; data keeps its length, a secret argument of a
 * command line becomes the fixed mask:
 * - an unfinished sensitive AT command line is held until its line end; if it has to be
 *   written before that (flush on a timer, a very long line), what was written is the mask of
 *   the line so far, and the rest is written as what the whole line's mask adds to it, so a
 *   password cut anywhere never reaches the trace and the pieces join into the whole line's mask;
 * - MQTT CONNECT packets are followed field by field across chunks, so the password is masked
 *   however the packet is cut (AT+CIPSEND pieces with command lines between them included).
 */
export class StreamRedactor {
  private pending: Buffer = Buffer.alloc(0);
  /** Start of an unfinished sensitive command line that has already been written out. */
  private openLine = '';
  private readonly mqtt = new MqttConnectMasker();

  /** Leading bytes of the last push's output that came from bytes held back before it. */
  private fromHeld = 0;
  /** Whether the last push wrote out every byte that was held back before it. */
  private releasedAll = true;

  /** `identifiers`: the module's side only, its IMEI/IMSI/ICCID answers masked (see identifiers.ts). */
  constructor(private readonly redactor: Redactor, private readonly identifiers?: IdentifierStream) {}

  push(chunk: Buffer): Buffer {
    const heldBefore = this.pending;
    const lineBefore = this.openLine;
    const out = this.pushRedacted(chunk);
    // The bytes held now are the tail of (held before + chunk); those of them from before stay held.
    const stillHeld = Math.max(0, this.pending.length - chunk.length);
    this.releasedAll = stillHeld === 0;
    this.fromHeld = Math.min(out.length, this.maskedLength(lineBefore, heldBefore.subarray(0, heldBefore.length - stillHeld)));
    return out;
  }

  private pushRedacted(chunk: Buffer): Buffer {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const parts: Buffer[] = [];
    if (this.openLine) {
      const end = lineEnd(data);
      if (end < 0 && this.openLine.length + data.length < MAX_HELD_LINE) {
        this.pending = Buffer.from(data);
        return Buffer.alloc(0);
      }
      parts.push(this.continueLine(data.subarray(0, end < 0 ? data.length : end), end >= 0));
      data = end < 0 ? Buffer.alloc(0) : data.subarray(end);
    }
    if (data.length > 0) {
      const hold = Math.max(this.redactor.holdBack(data), this.identifiers?.holdBack(data) ?? 0);
      this.pending = hold > 0 ? Buffer.from(data.subarray(data.length - hold)) : Buffer.alloc(0);
      const raw = data.subarray(0, data.length - hold);
      this.noteOpenLine(raw);
      parts.push(this.redactor.redact(raw));
    }
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const out = this.identifiers ? this.identifiers.process(joined) : joined;
    // A command line between two AT+CIPSEND pieces of a CONNECT is not part of the packet.
    if (this.mqtt.inPacket && COMMAND_CHUNK.test(chunk.toString('latin1'))) return out;
    return this.mqtt.process(out);
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Bytes held back so far (as received). */
  get pendingLength(): number {
    return this.pending.length;
  }

  /** How many leading bytes of the last push's output are what was held back before it. */
  get heldOutput(): number {
    return this.fromHeld;
  }

  /** Whether the last push wrote out all that was held back before it. */
  get releasedHeld(): boolean {
    return this.releasedAll;
  }

  flush(): Buffer {
    const data = this.pending;
    this.pending = Buffer.alloc(0);
    if (data.length === 0) return data;
    let out: Buffer;
    if (this.openLine) out = this.continueLine(data, false);
    else {
      this.noteOpenLine(data);
      out = this.redactor.redact(data);
    }
    return this.mqtt.process(this.identifiers ? this.identifiers.process(out) : out);
  }

  /**
   * Masks the next part of a sensitive line whose start is already out: what the mask of the
   * line so far, extended by `part`, adds to the mask already written (a prefix of it, see maskArg).
   */
  private continueLine(part: Buffer, ends: boolean): Buffer {
    const start = Buffer.from(this.openLine, 'latin1');
    const shown = this.redactor.redact(start).length;
    const whole = this.redactor.redact(Buffer.concat([start, part]));
    this.openLine = ends ? '' : this.openLine + part.toString('latin1');
    return Buffer.from(whole.subarray(shown));
  }

  /** Length of `bytes` once masked, written after an open sensitive line `line` (or none). */
  private maskedLength(line: string, bytes: Buffer): number {
    if (bytes.length === 0) return 0;
    if (!line) return this.redactor.redact(bytes).length;
    const start = Buffer.from(line, 'latin1');
    return this.redactor.redact(Buffer.concat([start, bytes])).length - this.redactor.redact(start).length;
  }

  /** Remembers the start (as sent, unmasked) of a sensitive command line left unfinished in `raw`. */
  private noteOpenLine(raw: Buffer): void {
    const text = raw.toString('latin1');
    const tail = text.slice(Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n')) + 1);
    const at = sensitiveStart(tail);
    this.openLine = at >= 0 ? tail.slice(at) : '';
  }
}

function lineEnd(data: Buffer): number {
  const cr = data.indexOf(0x0d);
  const lf = data.indexOf(0x0a);
  return cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
}

type Step = 'props' | 'string' | 'password';

/**
 * Follows MQTT CONNECT packets through a byte stream one byte at a time and masks the
 * password bytes, wherever the stream is cut. Bytes outside a CONNECT pass unchanged.
 */
class MqttConnectMasker {
  /** Header bytes of a candidate CONNECT (fixed header up to the keepalive). */
  private header: number[] = [];
  private steps: Step[] = [];
  /** Bytes of the packet after the fixed header, and how many it announced. */
  private consumed = 0;
  private total = 0;
  /** Within the current step: length bytes still to read, the length, bytes still to pass. */
  private lenBytes: number[] = [];
  private remaining = -1;

  get inPacket(): boolean {
    return this.header.length > 0 || this.steps.length > 0;
  }

  process(chunk: Buffer): Buffer {
    let out: Buffer | undefined;
    let i = 0;
    while (i < chunk.length) {
      if (this.steps.length === 0) {
        if (this.header.length === 0) {
          const at = chunk.indexOf(0x10, i);
          if (at < 0) break;
          i = at;
        }
        this.headerByte(chunk[i]!);
        i++;
        continue;
      }
      const step = this.steps[0]!;
      if (this.remaining < 0) {
        this.lengthByte(step, chunk[i]!);
        i++;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      if (step === 'password' && take > 0) {
        out ??= Buffer.from(chunk);
        out.fill(STAR, i, i + take);
      }
      i += take;
      this.consumed += take;
      this.remaining -= take;
      if (this.remaining === 0) this.nextStep();
    }
    return out ?? chunk;
  }

  private reset(): void {
    this.header = [];
    this.steps = [];
    this.lenBytes = [];
    this.remaining = -1;
  }

  private nextStep(): void {
    this.steps.shift();
    this.lenBytes = [];
    this.remaining = -1;
    if (this.steps.length === 0) this.reset();
  }

  private lengthByte(step: Step, byte: number): void {
    this.lenBytes.push(byte);
    this.consumed++;
    let length: number | undefined;
    if (step === 'props') {
      if ((byte & 0x80) === 0) length = this.lenBytes.reduce((v, b, k) => v + (b & 0x7f) * 128 ** k, 0);
      else if (this.lenBytes.length === 4) return this.reset();
    } else if (this.lenBytes.length === 2) length = (this.lenBytes[0]! << 8) | this.lenBytes[1]!;
    if (length === undefined) return;
    if (this.consumed + length > this.total) return this.reset(); // not a well-formed CONNECT
    this.remaining = length;
    if (length === 0) this.nextStep();
  }

  /** Collects the fixed and variable header; restarts the search one byte later on a mismatch. */
  private headerByte(byte: number): void {
    const h = this.header;
    h.push(byte);
    if (!this.headerStillValid()) {
      // Already written out; only the parser state has to catch up with them.
      const rest = Buffer.from(h.slice(1));
      this.header = [];
      this.process(rest);
      return;
    }
    // fixed header (1 + varint), name (2 + n), level, flags, keepalive (2)
    const lenBytes = varintLength(h, 1);
    if (lenBytes === undefined) return;
    const nameAt = 1 + lenBytes;
    const nameLen = h.length > nameAt + 1 ? h[nameAt + 1]! : undefined;
    if (nameLen === undefined || h.length < nameAt + 2 + nameLen + 4) return;
    const level = h[nameAt + 2 + nameLen]!;
    const flags = h[nameAt + 3 + nameLen]!;
    this.total = h.slice(1, 1 + lenBytes).reduce((v, b, k) => v + (b & 0x7f) * 128 ** k, 0);
    this.consumed = h.length - 1 - lenBytes;
    this.header = [];
    if ((flags & 0x40) === 0) return; // no password: nothing to mask
    const steps: Step[] = [];
    if (level === 5) steps.push('props');
    steps.push('string'); // client id
    if (flags & 0x04) {
      if (level === 5) steps.push('props');
      steps.push('string', 'string'); // will topic, will payload
    }
    if (flags & 0x80) steps.push('string');
    steps.push('password');
    this.steps = steps;
    this.lenBytes = [];
    this.remaining = -1;
  }

  private headerStillValid(): boolean {
    const h = this.header;
    if (h[0] !== 0x10) return false;
    let i = 1;
    for (; i < h.length && i <= 4; i++) if ((h[i]! & 0x80) === 0) break;
    if (i > 4) return false;
    if (i >= h.length) return true;
    const name = h.length > i + 2 && h[i + 2] === 0x06 ? MQISDP : MQTT;
    for (let k = 0; k < name.length && i + 1 + k < h.length; k++) if (h[i + 1 + k] !== name[k]) return false;
    const levelAt = i + 1 + name.length;
    if (h.length > levelAt && ![3, 4, 5].includes(h[levelAt]!)) return false;
    if (h.length > levelAt + 1 && (h[levelAt + 1]! & 0x01) !== 0) return false;
    return true;
  }
}

const MQTT = [0x00, 0x04, ...Buffer.from('MQTT', 'latin1')];
const MQISDP = [0x00, 0x06, ...Buffer.from('MQIsdp', 'latin1')];

/** Bytes taken by the varint starting at `at`, or undefined while it is incomplete. */
function varintLength(bytes: number[], at: number): number | undefined {
  for (let i = at; i < bytes.length && i < at + 4; i++) if ((bytes[i]! & 0x80) === 0) return i - at + 1;
  return undefined;
}
