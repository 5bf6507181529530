/**
 * -D / --property: MQTT 5 properties by their mosquitto names, checked as mosquitto_pub/sub/rr check
 * them (which packet may carry which property, value ranges), with mosquitto's messages.
 */
import { MosqUsageError } from './mosq-errors.js';

type PropType = 'byte' | 'int16' | 'int32' | 'varint' | 'binary' | 'string' | 'pair';
/** Packets a -D may name ("will" is the will message's properties). */
export const PROPERTY_COMMANDS = [
  'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback',
  'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth', 'will',
] as const;
export type PropertyCommand = (typeof PROPERTY_COMMANDS)[number];

interface PropInfo {
  /** mqtt-packet's field name. */
  key: string;
  type: PropType;
  /** The packets that may carry it (MQTT 5.0 section 2.2.2.2). */
  on: readonly PropertyCommand[];
}

const ACKS: PropertyCommand[] = ['connack', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'disconnect', 'auth'];
const PROPERTIES: Record<string, PropInfo> = {
  'payload-format-indicator': { key: 'payloadFormatIndicator', type: 'byte', on: ['publish', 'will'] },
  'message-expiry-interval': { key: 'messageExpiryInterval', type: 'int32', on: ['publish', 'will'] },
  'content-type': { key: 'contentType', type: 'string', on: ['publish', 'will'] },
  'response-topic': { key: 'responseTopic', type: 'string', on: ['publish', 'will'] },
  'correlation-data': { key: 'correlationData', type: 'binary', on: ['publish', 'will'] },
  'subscription-identifier': { key: 'subscriptionIdentifier', type: 'varint', on: ['publish', 'subscribe'] },
  'session-expiry-interval': { key: 'sessionExpiryInterval', type: 'int32', on: ['connect', 'connack', 'disconnect'] },
  'assigned-client-identifier': { key: 'assignedClientIdentifier', type: 'string', on: ['connack'] },
  'server-keep-alive': { key: 'serverKeepAlive', type: 'int16', on: ['connack'] },
  'authentication-method': { key: 'authenticationMethod', type: 'string', on: ['connect', 'connack', 'auth'] },
  'authentication-data': { key: 'authenticationData', type: 'binary', on: ['connect', 'connack', 'auth'] },
  'request-problem-information': { key: 'requestProblemInformation', type: 'byte', on: ['connect'] },
  'will-delay-interval': { key: 'willDelayInterval', type: 'int32', on: ['will'] },
  'request-response-information': { key: 'requestResponseInformation', type: 'byte', on: ['connect'] },
  'response-information': { key: 'responseInformation', type: 'string', on: ['connack'] },
  'server-reference': { key: 'serverReference', type: 'string', on: ['connack', 'disconnect'] },
  'reason-string': { key: 'reasonString', type: 'string', on: ACKS },
  'receive-maximum': { key: 'receiveMaximum', type: 'int16', on: ['connect', 'connack'] },
  'topic-alias-maximum': { key: 'topicAliasMaximum', type: 'int16', on: ['connect', 'connack'] },
  'topic-alias': { key: 'topicAlias', type: 'int16', on: ['publish'] },
  'maximum-qos': { key: 'maximumQoS', type: 'byte', on: ['connack'] },
  'retain-available': { key: 'retainAvailable', type: 'byte', on: ['connack'] },
  'user-property': { key: 'userProperties', type: 'pair', on: [...PROPERTY_COMMANDS] },
  'maximum-packet-size': { key: 'maximumPacketSize', type: 'int32', on: ['connect', 'connack'] },
  'wildcard-subscription-available': { key: 'wildcardSubscriptionAvailable', type: 'byte', on: ['connack'] },
  'subscription-identifier-available': { key: 'subscriptionIdentifiersAvailable', type: 'byte', on: ['connack'] },
  'shared-subscription-available': { key: 'sharedSubscriptionAvailable', type: 'byte', on: ['connack'] },
};

/** Property objects (mqtt-packet's shape) for the packets a client sends. */
export type PropertyLists = Record<'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will', Record<string, unknown>>;

export function emptyPropertyLists(): PropertyLists {
  return { connect: {}, publish: {}, subscribe: {}, unsubscribe: {}, disconnect: {}, will: {} };
}

const BOOLEAN_KEYS = new Set(['payloadFormatIndicator', 'requestProblemInformation', 'requestResponseInformation']);

const MAX: Partial<Record<PropType, number>> = { byte: 0xff, int16: 0xffff, int32: 0xffffffff, varint: 0xffffffff };

/** C's atol: leading blanks, a sign, digits; anything after is ignored; nothing is 0. */
export function atol(value: string): number {
  const m = /^\s*([+-]?\d+)/.exec(value);
  return m ? Number(m[1]) : 0;
}

/**
 * Parses one -D at args[at] (the command name); returns how many arguments it used. Throws
 * MosqUsageError with mosquitto's message on bad input.
 */
export function parseProperty(args: readonly string[], at: number, lists: PropertyLists): number {
  const notEnough = () => new MosqUsageError('Error: --property argument given but not enough arguments specified.\n\n');
  if (at + 2 >= args.length) throw notEnough();
  const cmdname = args[at]!;
  const propname = args[at + 1]!;
  if (!(PROPERTY_COMMANDS as readonly string[]).includes(cmdname)) throw new MosqUsageError(`Error: Invalid command ${cmdname} given in --property argument.\n\n`);
  const cmd = cmdname as PropertyCommand;
  const info = PROPERTIES[propname];
  if (!info) throw new MosqUsageError(`Error: Invalid property name ${propname} given in --property argument.\n\n`);
  if (!info.on.includes(cmd)) throw new MosqUsageError(`Error: ${propname} property not allowed for ${cmdname} in --property argument.\n\n`);
  let key: string | undefined;
  let value: string;
  let used: number;
  if (info.type === 'pair') {
    if (at + 3 >= args.length) throw notEnough();
    key = args[at + 2]!;
    value = args[at + 3]!;
    used = 4;
  } else {
    value = args[at + 2]!;
    used = 3;
  }
  const notSupported = () => new MosqUsageError(`Error: ${propname} property not supported for ${cmdname} in --property argument.\n\n`);
  if (cmd === 'publish' && propname === 'subscription-identifier') throw notSupported();
  if (cmd !== 'connect' && cmd !== 'publish' && cmd !== 'subscribe' && cmd !== 'unsubscribe' && cmd !== 'disconnect' && cmd !== 'will') throw notSupported();
  const list = lists[cmd];
  const max = MAX[info.type];
  if (max !== undefined) {
    const n = atol(value);
    if (n < 0 || n > max) throw new MosqUsageError(`Error: Property value (${n}) out of range for property ${propname}.\n\n`);
    if (BOOLEAN_KEYS.has(info.key)) list[info.key] = n !== 0; // mqtt-packet takes these bytes as booleans
    else list[info.key] = n;
  } else if (info.type === 'binary') {
    if (Buffer.byteLength(value) > 0xffff) throw new MosqUsageError(`Error: Property value too long for property ${propname}.\n\n`);
    list[info.key] = Buffer.from(value);
  } else if (info.type === 'string') {
    list[info.key] = value;
  } else {
    const pairs = (list.userProperties ?? {}) as Record<string, string | string[]>;
    const had = pairs[key!];
    pairs[key!] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    list.userProperties = pairs;
  }
  return used;
}
