import type { IPublishPacket } from 'mqtt-packet';
import { cjson, JsonObject } from './cjson.js';
import { isoTime, jsonTime, nanoseconds, strftime } from './strftime.js';

export interface OutputOptions {
  verbose: boolean;
  eol: boolean;
  format: string | undefined;
  pretty: boolean;
  clientId: string;
}

/** What mosquitto_sub prints for one message: bytes for stdout, and lines for stderr (a %J payload that is not JSON). */
export interface FormattedMessage {
  bytes: Buffer;
  errors: string[];
}

/** The bytes mosquitto_sub would print for one message (payload bytes pass through untouched); check -F with formatProblem first. */
export function formatMessage(packet: IPublishPacket, payload: Buffer, options: OutputOptions, now = new Date()): FormattedMessage {
  const eol = options.eol ? Buffer.from('\n') : Buffer.alloc(0);
  const errors: string[] = [];
  if (options.format !== undefined) {
    const bytes = expandFormat(options.format, { packet, payload, options, now, errors });
    return { bytes: Buffer.concat([bytes, eol]), errors };
  }
  if (options.verbose) {
    const body = payload.length === 0 ? Buffer.from('(null)') : payload;
    return { bytes: Buffer.concat([Buffer.from(`${packet.topic} `), body, eol]), errors };
  }
  return { bytes: Buffer.concat([payload, eol]), errors };
}

interface Message {
  packet: IPublishPacket;
  payload: Buffer;
  options: OutputOptions;
  now: Date;
  errors: string[];
}

/** printf-style modifiers between % and the conversion: %-10t, %05l, %.3t. */
interface Spec {
  leftAlign: boolean;
  zeroPad: boolean;
  width: number;
  precision: number | undefined;
  /** mosquitto 2.1's hex field separator (%.2:x), ' ' when none is given. */
  hexSep: string;
}

type Piece = string | Buffer;

const ESCAPES: Record<string, string> = { '\\': '\\', '0': '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v' };

// mosquitto_sub reads flags as: an optional '-', an optional '0', a width, then '.' and a precision, then
// (2.1) one hex separator character from its list.
const HEX_SEPARATORS = `!"#$&'()*+,\\-./:;<=>?@[\\\\\\]^_\`{|}~ `;
const MODIFIERS = new RegExp(`^(-?)(0?)(\\d*)(?:\\.(\\d*))?([${HEX_SEPARATORS}]?)`);
// mosquitto_sub's own check, before it reads the modifiers: one flag ('-' or '0'), digits, '.', digits, a separator.
const CHECKED_MODIFIERS = new RegExp(`^[-0]?\\d*(?:\\.\\d*)?[${HEX_SEPARATORS}]?`);

/**
 * %-conversions, as mosquitto_sub 2.0.11 prints them (%x, %X, %d, %f and hex separators as 2.1 does): which honour a width (and a precision) is its choice, kept
 * byte for byte. %c (the client id) is atbridge's own.
 */
const CONVERSIONS: Record<string, (m: Message, spec: Spec) => Piece> = {
  '%': () => '%',
  A: (m, spec) => optionalInt(props(m).topicAlias, spec),
  C: (m, spec) => optionalStr(props(m).contentType, spec, ' '.repeat(spec.width)),
  D: (m) => props(m).correlationData ?? '',
  E: (m, spec) => optionalInt(props(m).messageExpiryInterval, spec),
  F: (m, spec) => optionalInt(asNumber(props(m).payloadFormatIndicator), spec),
  I: (m, spec) => str(isoTime(m.now), spec),
  j: (m) => jsonMessage(m, false),
  J: (m) => jsonMessage(m, true),
  l: (m, spec) => int(m.payload.length, spec),
  m: (m, spec) => int(m.packet.messageId ?? 0, spec),
  P: (m) => userProperties(props(m)).map(([k, v]) => `${k}:${v}`).join(' '),
  p: (m, spec) => payloadField(m.payload, spec),
  q: (m) => String(m.packet.qos),
  R: (m, spec) => optionalStr(props(m).responseTopic, spec, ''),
  r: (m) => (m.packet.retain ? '1' : '0'),
  S: (m, spec) => optionalInt(first(props(m).subscriptionIdentifier), spec),
  t: (m, spec) => str(m.packet.topic, spec),
  U: (m) => `${Math.floor(m.now.getTime() / 1000)}.${nanoseconds(m.now)}`,
  x: (m, spec) => hexField(m.payload, spec, false),
  X: (m, spec) => hexField(m.payload, spec, true),
  d: (m, spec) => floatField(m, spec, 8),
  f: (m, spec) => floatField(m, spec, 4),
  c: (m, spec) => str(m.options.clientId, spec),
};

/** mosquitto_sub's complaint about a -F string (it refuses to start), or undefined when the string is fine. */
export function formatProblem(format: string): string | undefined {
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%') {
      i += 1 + CHECKED_MODIFIERS.exec(format.slice(i + 1))![0].length;
      if (i >= format.length) return 'Incomplete format specifier.';
      if (CONVERSIONS[format[i]!] === undefined) return `Invalid format specifier '${String.fromCodePoint(format.codePointAt(i)!)}'.`;
    } else if (c === '@' || c === '\\') {
      i++;
      if (i >= format.length) return c === '@' ? 'Incomplete format specifier.' : 'Incomplete escape specifier.';
      if (c === '\\' && ESCAPES[format[i]!] === undefined) return `Invalid escape specifier '${String.fromCodePoint(format.codePointAt(i)!)}'.`;
    }
  }
  return undefined;
}

/** -F: %-conversions with printf-style modifiers, @-strftime times, \ escapes, everything else as is. */
function expandFormat(format: string, m: Message): Buffer {
  const pieces: Piece[] = [];
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next !== undefined) {
      const modifiers = MODIFIERS.exec(format.slice(i + 1))!;
      i += 1 + modifiers[0].length;
      const conversion = CONVERSIONS[format[i] ?? ''];
      if (conversion) pieces.push(conversion(m, specOf(modifiers)));
    } else if (c === '@' && next !== undefined) {
      i++;
      pieces.push(next === '@' ? '@' : strftime(next, m.now));
    } else if (c === '\\' && next !== undefined && ESCAPES[next] !== undefined) {
      i++;
      pieces.push(ESCAPES[next]!);
    } else {
      pieces.push(c);
    }
  }
  return joinPieces(pieces);
}

function specOf(modifiers: RegExpExecArray): Spec {
  const [, minus, zero, width, precision, sep] = modifiers;
  return {
    leftAlign: minus === '-',
    zeroPad: zero === '0',
    width: Number(width || 0),
    precision: precision === undefined ? undefined : Number(precision || 0),
    hexSep: sep || ' ',
  };
}

/** Text is joined before it is encoded, so a character split over two UTF-16 units survives. */
function joinPieces(pieces: Piece[]): Buffer {
  const buffers: Buffer[] = [];
  let text = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      text += piece;
    } else {
      buffers.push(Buffer.from(text), piece);
      text = '';
    }
  }
  buffers.push(Buffer.from(text));
  return Buffer.concat(buffers);
}

/** printf's %*d, %-*d and %0*d. */
function int(value: number, spec: Spec): string {
  const digits = String(value);
  if (spec.leftAlign) return digits.padEnd(spec.width);
  return digits.padStart(spec.width, spec.zeroPad ? '0' : ' ');
}

/** An absent MQTT 5 number still fills its width, with the pad character. */
function optionalInt(value: number | undefined, spec: Spec): string {
  return value === undefined ? (spec.zeroPad ? '0' : ' ').repeat(spec.width) : int(value, spec);
}

/** printf's %*.*s: precision cuts and width pads, both counted in bytes; '0' pads with spaces all the same. */
function str(value: string, spec: Spec): Buffer {
  const bytes = Buffer.from(value);
  return pad(spec.precision === undefined ? bytes : bytes.subarray(0, spec.precision), spec, ' ');
}

function optionalStr(value: string | undefined, spec: Spec, absent: string): Piece {
  return value === undefined ? absent : str(value, spec);
}

/** Left-aligned fields are padded with spaces, right-aligned ones with the pad character. */
function pad(bytes: Buffer, spec: Spec, fill: string): Buffer {
  const padding = Buffer.alloc(Math.max(0, spec.width - bytes.length), spec.leftAlign ? ' ' : fill);
  return spec.leftAlign ? Buffer.concat([bytes, padding]) : Buffer.concat([padding, bytes]);
}

/**
 * mosquitto_sub's write_payload: a width also cuts the payload to that many bytes, and in hex to half of that
 * (so %20x shows at most 10 bytes); the precision is ignored.
 */
function payloadField(payload: Buffer, spec: Spec, hex?: 'x' | 'X'): Buffer {
  let bytes = spec.width > 0 ? payload.subarray(0, spec.width) : payload;
  if (hex && spec.width > 0) bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
  const shown = hex === undefined ? bytes : Buffer.from(hex === 'x' ? bytes.toString('hex') : bytes.toString('hex').toUpperCase());
  return pad(shown, spec, spec.zeroPad ? '0' : ' ');
}

/**
 * %x / %X as mosquitto_sub 2.1 prints them: a width pads (and cuts the payload to that many bytes), a
 * precision puts the separator after every that many hex digits (%.2:x → 6d:65), padding included.
 */
function hexField(payload: Buffer, spec: Spec, upper: boolean): Buffer {
  const bytes = spec.width > 0 && payload.length > spec.width ? payload.subarray(0, spec.width) : payload;
  const padlen = spec.width > 0 ? spec.width - bytes.length * 2 : -bytes.length;
  const every = spec.precision ?? -1;
  let out = '';
  let xpos = 0;
  const sep = () => {
    if (every > 0 && xpos % every === every - 1) out += spec.hexSep;
  };
  if (!spec.leftAlign) {
    for (let i = 0; i < padlen; i++) {
      out += spec.zeroPad ? '0' : ' ';
      sep();
      xpos++;
    }
  }
  const hex = upper ? bytes.toString('hex').toUpperCase() : bytes.toString('hex');
  for (let i = 0; i < bytes.length; i++) {
    out += hex[2 * i];
    sep();
    xpos++;
    out += hex[2 * i + 1];
    if (i < bytes.length - 1) {
      sep();
      xpos++;
    }
  }
  // printf("%*s", padlen, "") pads by |padlen| even when it is negative.
  if (spec.leftAlign) out += ' '.repeat(Math.abs(padlen));
  return Buffer.from(out);
}

/** %d / %f (2.1): the payload as a little-endian IEEE double (8 bytes) or float (4), printf's %.*f; anything else prints nothing and an error. */
function floatField(m: Message, spec: Spec, size: 4 | 8): string {
  if (m.payload.length !== size) {
    m.errors.push(size === 8 ? 'requested double printing, but non-double data received' : 'requested float printing, but non-float data received');
    return '';
  }
  const value = size === 8 ? m.payload.readDoubleLE(0) : m.payload.readFloatLE(0);
  const text = value.toFixed(spec.precision === undefined ? 6 : Math.min(spec.precision, 100));
  if (spec.width === 0 || text.length >= spec.width) return text;
  if (spec.leftAlign) return text.padEnd(spec.width, ' ');
  if (spec.zeroPad) return (text.startsWith('-') ? '-' + text.slice(1).padStart(spec.width - 1, '0') : text.padStart(spec.width, '0'));
  return text.padStart(spec.width, ' ');
}

type Properties = NonNullable<IPublishPacket['properties']>;

function props(m: Message): Properties {
  return m.packet.properties ?? {};
}

function asNumber(value: boolean | number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function first(value: number | number[] | undefined): number | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** mqtt-packet groups user properties by name; mosquitto keeps each pair, in order (a repeated name comes out grouped here). */
function userProperties(properties: Properties): [string, string][] {
  return Object.entries(properties.userProperties ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((value): [string, string] => [k, value]));
}

// ---- JSON (%j, %J), printed the way cJSON prints it


const NOT_JSON = Symbol('not JSON');

/** %j / %J; a %J payload that is not JSON prints nothing and an error line, and the message still counts. */
function jsonMessage(m: Message, parsePayload: boolean): string {
  const { packet, payload } = m;
  const members: [string, unknown][] = [
    ['tst', jsonTime(m.now)],
    ['topic', packet.topic],
    ['qos', packet.qos],
    ['retain', packet.retain ? 1 : 0],
    ['payloadlen', payload.length],
  ];
  if (packet.qos > 0) members.push(['mid', packet.messageId ?? 0]);
  if (packet.properties && Object.keys(packet.properties).length > 0) members.push(['properties', jsonProperties(packet.properties)]);
  const payloadMember = parsePayload ? parsedPayload(payload) : escapedPayload(payload);
  if (payloadMember === NOT_JSON) {
    m.errors.push(`Error: Message payload is not valid JSON on topic ${packet.topic}.`);
    return '';
  }
  members.push(payloadMember);
  return cjson(new JsonObject(members), m.options.pretty);
}

/** %J: the payload as JSON; an empty one is null. */
function parsedPayload(payload: Buffer): [string, unknown] | typeof NOT_JSON {
  if (payload.length === 0) return ['payload', null];
  try {
    return ['payload', JSON.parse(payload.toString('utf8'))];
  } catch {
    return NOT_JSON;
  }
}

/** %j: the payload as a string, up to a NUL byte like mosquitto's; not UTF-8 (atbridge's own choice): payload_base64. */
function escapedPayload(payload: Buffer): [string, unknown] {
  if (payload.length === 0) return ['payload', null];
  const nul = payload.indexOf(0);
  const text = nul === -1 ? payload : payload.subarray(0, nul);
  return isUtf8(text) ? ['payload', text.toString('utf8')] : ['payload_base64', payload.toString('base64')];
}

const PROPERTY_NAMES: Record<string, string> = {
  payloadFormatIndicator: 'payload-format-indicator',
  messageExpiryInterval: 'message-expiry-interval',
  contentType: 'content-type',
  responseTopic: 'response-topic',
  correlationData: 'correlation-data',
  subscriptionIdentifier: 'subscription-identifier',
  topicAlias: 'topic-alias',
};

/** mosquitto's "properties" member: the message's MQTT 5 properties in the order they came. */
function jsonProperties(properties: Properties): JsonObject {
  const members: [string, unknown][] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'userProperties') members.push(['user-properties', new JsonObject(userProperties(properties))]);
    const jsonName = PROPERTY_NAMES[name];
    if (jsonName === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      members.push([jsonName, Buffer.isBuffer(one) ? one.toString('utf8') : typeof one === 'boolean' ? Number(one) : one]);
    }
  }
  return new JsonObject(members);
}

function isUtf8(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}
