/** commander options in mosquitto's names, for commands that keep atbridge's conventions (probe); pub, sub and rr use mosq-args.ts. */
import type { Command } from 'commander';
import type { QoS } from 'mqtt-packet';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { intOption } from '../../cli/run.js';
import type { MqttClientOptions, ProtocolVersion, WillOptions } from '../client.js';
import { filterProblem, publishTopicProblem } from '../topic.js';
import { pskProblem, readTlsFiles, type TlsSettings } from '../tls.js';

/** Options pub and sub share, named and meaning as in mosquitto_pub / mosquitto_sub. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('-h, --host <host>', 'broker host (default localhost)')
    .option('-p, --port <port>', 'broker port (default 1883, 8883 with TLS)', intOption('-p', 1, 65535))
    .option('-L, --url <url>', 'mqtt(s)://[username[:password]@]host[:port]/topic')
    .option('-i, --id <id>', 'client id (default atbridge-<command>-<pid>)')
    .option('-I, --id-prefix <prefix>', 'client id is this prefix followed by the process id')
    .option('-u, --username <user>', 'user name')
    .option('-P, --pw <password>', 'password (or ATBRIDGE_MQTT_PASSWORD); never printed')
    .option('-k, --keepalive <seconds>', 'keepalive in seconds (0 = off)', intOption('-k', 0, 65535), 60)
    .option('-c, --disable-clean-session', 'persistent session: the broker keeps subscriptions and queued messages')
    .option('-x, --session-expiry-interval <seconds>', 'MQTT 5 session expiry (-1 = never)')
    .option('-V, --protocol-version <version>', 'mqttv5, mqttv311 or mqttv31 (also 5, 311, 31)', 'mqttv311')
    .option('-d, --debug', 'print every MQTT packet sent and received, and the modem steps')
    .option('--will-topic <topic>', 'topic of the will, published by the broker if we vanish')
    .option('--will-payload <payload>', 'payload of the will (default empty)')
    .option('--will-qos <qos>', 'QoS of the will', intOption('--will-qos', 0, 2))
    .option('--will-retain', 'retain the will')
    .option('--cafile <file>', 'trust this CA and use TLS (run on this host, over the module\'s plain socket)')
    .option('--capath <dir>', 'trust the CA certificates (PEM) in this directory and use TLS')
    .option('--cert <file>', 'client certificate for TLS')
    .option('--key <file>', 'client private key for TLS')
    .option('--insecure', 'do not check the broker certificate\'s host name (the chain is still checked)')
    .option('--psk <hex>', 'pre-shared key in hex: TLS-PSK instead of certificates (or ATBRIDGE_MQTT_PSK); never printed')
    .option('--psk-identity <identity>', 'the identity that goes with --psk');
}

export interface ConnectionCliOptions {
  host?: string;
  port?: number;
  url?: string;
  id?: string;
  idPrefix?: string;
  username?: string;
  pw?: string;
  keepalive: number;
  disableCleanSession?: boolean;
  sessionExpiryInterval?: string;
  protocolVersion: string;
  debug?: boolean;
  willTopic?: string;
  willPayload?: string;
  willQos?: number;
  willRetain?: boolean;
  cafile?: string;
  capath?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  psk?: string;
  pskIdentity?: string;
}

/** Where and how to connect, before any transport exists. */
export interface ConnectionSetup {
  host: string;
  port: number;
  tls: TlsSettings | undefined;
  /** The topic from -L, if any. */
  urlTopic: string | undefined;
  client: Omit<MqttClientOptions, 'connect'> & { clientId: string; protocolVersion: ProtocolVersion };
  debug: boolean;
}

export function usageError(message: string): AtbridgeError {
  return new AtbridgeError('bad-option', message, { exitCode: ExitCode.usage });
}

export function parseQos(value: string): QoS {
  const n = Number(value);
  if (n !== 0 && n !== 1 && n !== 2) throw usageError(`invalid QoS given: ${value} (0, 1 or 2)`);
  return n;
}

export function parseProtocolVersion(value: string): ProtocolVersion {
  const versions: Record<string, ProtocolVersion> = { mqttv31: 3, '31': 3, mqttv311: 4, '311': 4, mqttv5: 5, '5': 5 };
  const version = versions[value.toLowerCase()];
  if (version === undefined) throw usageError(`invalid protocol version "${value}": use mqttv5, mqttv311 or mqttv31`);
  return version;
}

export function connectionSetup(opts: ConnectionCliOptions, command: 'pub' | 'sub'): ConnectionSetup {
  const protocolVersion = parseProtocolVersion(opts.protocolVersion);
  const url = opts.url ? parseUrl(opts.url) : undefined;
  const psk = opts.psk ?? process.env.ATBRIDGE_MQTT_PSK;
  const tlsWanted = url?.secure === true || opts.cafile !== undefined || opts.capath !== undefined || opts.cert !== undefined || psk !== undefined;
  if ((opts.cert === undefined) !== (opts.key === undefined)) throw usageError('--cert and --key must be given together');
  if (psk !== undefined && opts.pskIdentity === undefined) throw usageError('--psk-identity is required with --psk');
  if (psk === undefined && opts.pskIdentity !== undefined) throw usageError('--psk-identity needs --psk');
  if (psk !== undefined && (opts.cafile !== undefined || opts.capath !== undefined || opts.cert !== undefined)) {
    throw usageError('only one of --psk or --cafile/--capath/--cert may be used at once');
  }
  const badPsk = psk !== undefined ? pskProblem(psk) : undefined;
  if (badPsk) throw usageError(`--psk ${badPsk}`);
  if (opts.id !== undefined && opts.idPrefix !== undefined) throw usageError('-i and -I cannot be used together');
  const clientId = opts.id ?? (opts.idPrefix !== undefined ? `${opts.idPrefix}${process.pid}` : `atbridge-${command}-${process.pid}`);
  const persistent = opts.disableCleanSession === true;
  if (persistent && opts.id === undefined && opts.idPrefix === undefined) {
    throw usageError('you must provide a client id (-i) if you are using the -c option');
  }
  const username = url?.username ?? opts.username;
  const password = url?.password ?? opts.pw ?? process.env.ATBRIDGE_MQTT_PASSWORD;
  if (password !== undefined && username === undefined) throw usageError('a password (-P) needs a user name (-u)');
  const client: ConnectionSetup['client'] = {
    clientId,
    protocolVersion,
    keepalive: opts.keepalive,
    clean: !persistent,
  };
  if (username !== undefined) client.username = username;
  if (password !== undefined) client.password = password;
  if (opts.sessionExpiryInterval !== undefined) client.sessionExpiry = parseExpiry(opts.sessionExpiryInterval);
  const will = willOptions(opts);
  if (will) client.will = will;
  const tls = tlsWanted ? pick(opts) : undefined;
  if (tls && psk !== undefined) tls.psk = { identity: opts.pskIdentity!, key: psk };
  else if (tls) readTlsFiles(tls); // a missing CA or key file is the user's input: say so before connecting
  return {
    host: url?.host ?? opts.host ?? 'localhost',
    port: url?.port ?? opts.port ?? (tlsWanted ? 8883 : 1883),
    tls,
    urlTopic: url?.topic,
    client,
    debug: opts.debug === true,
  };
}

function pick(opts: ConnectionCliOptions): NonNullable<ConnectionSetup['tls']> {
  const tls: NonNullable<ConnectionSetup['tls']> = {};
  if (opts.cafile !== undefined) tls.cafile = opts.cafile;
  if (opts.capath !== undefined) tls.capath = opts.capath;
  if (opts.cert !== undefined) tls.cert = opts.cert;
  if (opts.key !== undefined) tls.key = opts.key;
  if (opts.insecure) tls.insecure = true;
  return tls;
}

function willOptions(opts: ConnectionCliOptions): WillOptions | undefined {
  if (opts.willTopic === undefined) {
    if (opts.willPayload !== undefined || opts.willQos !== undefined || opts.willRetain) {
      throw usageError('--will-payload, --will-qos and --will-retain need --will-topic');
    }
    return undefined;
  }
  const problem = publishTopicProblem(opts.willTopic);
  if (problem) throw usageError(`invalid will topic: ${problem}`);
  return {
    topic: opts.willTopic,
    payload: opts.willPayload ?? '',
    qos: (opts.willQos ?? 0) as QoS,
    retain: opts.willRetain === true,
  };
}

function parseExpiry(value: string): number {
  if (value === '-1' || value === '∞') return 0xffffffff;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw usageError(`invalid session expiry interval "${value}"`);
  return n;
}

interface ParsedUrl {
  secure: boolean;
  host: string;
  port: number | undefined;
  username: string | undefined;
  password: string | undefined;
  topic: string | undefined;
}

/** mosquitto's -L: mqtt(s)://[username[:password]@]host[:port]/topic */
export function parseUrl(value: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`invalid URL for -L: "${value}"`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw usageError(`unsupported URL scheme "${url.protocol}" in -L: use mqtt:// or mqtts://`);
  const topic = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    secure: url.protocol === 'mqtts:',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : undefined,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    topic: topic || undefined,
  };
}

export function assertFilters(filters: string[]): void {
  for (const filter of filters) {
    const problem = filterProblem(filter);
    if (problem) throw usageError(`invalid subscription topic: ${problem}`);
  }
}
