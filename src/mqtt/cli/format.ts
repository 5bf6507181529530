import type { IPublishPacket } from 'mqtt-packet';

export interface OutputOptions {
  verbose: boolean;
  eol: boolean;
  format: string | undefined;
  pretty: boolean;
  clientId: string;
}

/** The bytes mosquitto_sub would print for one message (payload bytes pass through untouched). */
export function formatMessage(packet: IPublishPacket, payload: Buffer, options: OutputOptions, now = new Date()): Buffer {
  const eol = options.eol ? Buffer.from('\n') : Buffer.alloc(0);
  if (options.format !== undefined) return Buffer.concat([expandFormat(options.format, packet, payload, options, now), eol]);
  if (options.verbose) {
    const body = payload.length === 0 ? Buffer.from('(null)') : payload;
    return Buffer.concat([Buffer.from(`${packet.topic} `), body, eol]);
  }
  return Buffer.concat([payload, eol]);
}

const ESCAPES: Record<string, string> = { '\\': '\\', '0': '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v' };

/** -F: %t topic, %p payload, %q QoS, %r retain, %l length, %m message id, %x/%X hex, %j/%J JSON, %I ISO time, %U unix time, %c client id, %% and \ escapes. */
function expandFormat(format: string, packet: IPublishPacket, payload: Buffer, options: OutputOptions, now: Date): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s));
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next !== undefined) {
      i++;
      switch (next) {
        case '%': text('%'); break;
        case 't': text(packet.topic); break;
        case 'p': parts.push(payload); break;
        case 'q': text(String(packet.qos)); break;
        case 'r': text(packet.retain ? '1' : '0'); break;
        case 'l': text(String(payload.length)); break;
        case 'm': text(String(packet.messageId ?? 0)); break;
        case 'x': text(payload.toString('hex')); break;
        case 'X': text(payload.toString('hex').toUpperCase()); break;
        case 'c': text(options.clientId); break;
        case 'I': text(isoTime(now)); break;
        case 'U': text(`${Math.floor(now.getTime() / 1000)}.${String((now.getTime() % 1000) * 1_000_000).padStart(9, '0')}`); break;
        case 'j': text(jsonMessage(packet, payload, now, false, options.pretty)); break;
        case 'J': text(jsonMessage(packet, payload, now, true, options.pretty)); break;
        default: text(`%${next}`);
      }
    } else if (c === '\\' && next !== undefined && ESCAPES[next] !== undefined) {
      i++;
      text(ESCAPES[next]!);
    } else {
      text(c);
    }
  }
  return Buffer.concat(parts);
}

/** mosquitto's timestamp: microseconds and an explicit UTC offset. */
function isoTime(now: Date): string {
  const iso = now.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}000Z+0000`;
}

export class PayloadNotJson extends Error {}

function jsonMessage(packet: IPublishPacket, payload: Buffer, now: Date, payloadAsJson: boolean, pretty: boolean): string {
  const fields: [string, unknown][] = [
    ['tst', isoTime(now)],
    ['topic', packet.topic],
    ['qos', packet.qos],
    ['retain', packet.retain ? 1 : 0],
    ['payloadlen', payload.length],
  ];
  if (packet.qos > 0) fields.push(['mid', packet.messageId ?? 0]);
  if (payloadAsJson) {
    try {
      fields.push(['payload', JSON.parse(payload.toString('utf8'))]);
    } catch {
      throw new PayloadNotJson(`message payload is not valid JSON on topic ${packet.topic}`);
    }
  } else if (isUtf8(payload)) {
    fields.push(['payload', payload.toString('utf8')]);
  } else {
    fields.push(['payload_base64', payload.toString('base64')]);
  }
  if (!pretty) return JSON.stringify(Object.fromEntries(fields));
  // mosquitto prints cJSON's formatted style: tab indents and a tab after each colon.
  const body = fields.map(([k, v]) => `\t${JSON.stringify(k)}:\t${JSON.stringify(v, null, '\t').replace(/\n/g, '\n\t')}`);
  return `{\n${body.join(',\n')}\n}`;
}

function isUtf8(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}
