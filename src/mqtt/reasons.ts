import { AtbridgeError } from '../errors.js';

/** MQTT 3.1/3.1.1 CONNACK return codes. */
const V3_CONNACK: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorised',
};

/** MQTT 5 reason codes (§2.4) that a client sees in CONNACK, PUBACK, SUBACK, DISCONNECT. */
const V5_REASONS: Record<number, string> = {
  0x04: 'disconnect with will message',
  0x10: 'no matching subscribers',
  0x11: 'no subscription existed',
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x92: 'packet identifier not found',
  0x93: 'receive maximum exceeded',
  0x94: 'topic alias invalid',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9a: 'retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9e: 'shared subscriptions not supported',
  0x9f: 'connection rate exceeded',
  0xa0: 'maximum connect time',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

export function reasonText(code: number, protocolVersion: number): string {
  const text = protocolVersion === 5 ? V5_REASONS[code] : V3_CONNACK[code];
  return text ?? `reason ${code}`;
}

/** A refused CONNACK as a typed error; auth failures are marked so reconnect stops trying. */
export function connackRefused(code: number, protocolVersion: number): AtbridgeError {
  const text = reasonText(code, protocolVersion);
  const authFailure = protocolVersion === 5 ? [0x86, 0x87, 0x8a, 0x8c, 0x85, 0x84].includes(code) : [1, 2, 4, 5].includes(code);
  // Exit code = the CONNACK code, as mosquitto_pub/sub do (5 = not authorised in 3.1.1, 135 in 5).
  return new AtbridgeError('mqtt-connect-refused', `broker refused the connection: ${text}`, {
    exitCode: code,
    fix: authFailure ? 'check -u/-P (user and password), the client id and the protocol version -V' : 'retry later; the broker is up but not accepting',
    detail: { reasonCode: code, reason: text, permanent: authFailure },
  });
}
