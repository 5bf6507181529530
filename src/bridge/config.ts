import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { modemSessionOptions, type ModemCliOptions } from '../cli/modem-options.js';
import { pskProblem, readTlsFiles, type TlsSettings } from '../mqtt/tls.js';
import { AtbridgeError, ExitCode, errorMessage } from '../errors.js';
import { fsReason } from '../fs-reason.js';
import type { FsyncPolicy } from '../mqtt/durable-queue.js';
import type { ModemSessionOptions } from '../modem/session-types.js';
import { parseTopicLine, type Route } from './routes.js';
import type { RemoteSessionOptions } from './bridge.js';

/**
 * Settings as mosquitto.conf writes a bridge section: `key value` lines, `#` comments, `topic`
 * repeatable. The command-line flags are the same keys (`--remote-clientid` = `remote_clientid`);
 * a flag overrides the file, and `--topic` lines are added to the file's.
 */
export type Settings = Map<string, string[]>;

/** Key → what it holds; the order here is the order `--print-config` shows. */
export const KEYS: Record<string, string> = {
  connection: 'bridge name: in the status topic and default client ids (default: host name)',
  local: 'local broker, mqtt://[user[:password]@]host[:port] (default mqtt://127.0.0.1:1883)',
  remote: 'remote broker reached through the module, mqtt[s]://[user[:password]@]host[:port]',
  address: 'mosquitto spelling of the remote: host[:port]',
  device: 'serial device (/dev/serial/by-id/... survives re-plugging), tcp://host:port or emu:...',
  profile: 'firmware profile: a family (sim7600, esp-at, …; `atbridge nc --help` lists them), a profile JSON path, or auto',
  baud: 'serial rate or auto',
  set_baud: 'switch the module to this rate after sync',
  baud_fallback: 'true: on sustained line corruption, step module and port down to the next lower rate',
  transparent: 'true: carry the socket in transparent mode',
  recv_mode: 'push or buffered',
  apn: 'cellular access point name',
  pin: 'SIM PIN (or ATBRIDGE_SIM_PIN)',
  wifi_ssid: 'Wi-Fi network (ESP-AT)',
  wifi_password: 'Wi-Fi password (or ATBRIDGE_WIFI_PASSWORD)',
  trace: 'JSONL trace of the serial conversation',
  trace_dir: 'flight recorder directory: rolling compressed trace segments (SIGUSR1 or --snapshot copies the last minutes aside)',
  snapshot_minutes: 'minutes of the flight recorder a snapshot copies (default 30)',
  topic: 'PATTERN [out|in|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]] (repeatable)',
  remote_clientid: 'client id at the remote broker (default atbridge-<connection>)',
  remote_username: 'user name at the remote broker',
  remote_password: 'password at the remote broker (or ATBRIDGE_REMOTE_PASSWORD)',
  local_clientid: 'client id at the local broker (default atbridge-local-<connection>)',
  local_username: 'user name at the local broker',
  local_password: 'password at the local broker (or ATBRIDGE_LOCAL_PASSWORD)',
  cleansession: 'true: the remote forgets the session on every reconnect (default false)',
  keepalive_interval: 'seconds between pings on the remote link (default 60)',
  connect_timeout: 'seconds the TLS handshake, and then the CONNACK, may take before the attempt is abandoned and made again (default: half the keepalive, 5 to 30)',
  restart_timeout: 'BASE [CAP] seconds between remote attempts; with CAP decorrelated jitter (default 5 30)',
  notifications: 'publish retained 1/0 on the notification topic, 0 by the will (default true)',
  notification_topic: 'default atbridge/<connection>/state',
  bridge_protocol_version: 'mqttv311 or mqttv50 (default mqttv311)',
  try_private: 'announce a bridge to a 3.1.1 remote so it never echoes (default true)',
  bridge_cafile: 'CA file: TLS to the remote (runs on this host)',
  bridge_capath: 'directory of CA certificates (PEM): TLS to the remote',
  bridge_certfile: 'client certificate for TLS',
  bridge_keyfile: 'client key for TLS',
  bridge_insecure: 'true: do not check the certificate host name',
  bridge_identity: 'TLS-PSK identity (with bridge_psk, instead of certificates)',
  bridge_psk: 'TLS-PSK key in hex (or ATBRIDGE_REMOTE_PSK)',
  queue_dir: 'durable queues (default $ATBRIDGE_QUEUE_DIR or ~/.local/state/atbridge/<connection>)',
  queue_max_messages: 'bound per direction; the oldest unsent are dropped beyond it (default 100000)',
  queue_max_bytes: 'bound per direction in bytes (default 64 MiB)',
  queue_max_age: 'seconds; older unsent messages are dropped (default: no limit)',
  queue_fsync: 'always, interval or never (default always: on disk before the PUBACK)',
  status_topic: 'retained status JSON on the local broker (default atbridge/<connection>/status)',
  status_interval: 'seconds between status reports; 0 = off (default 60)',
  metrics: 'HOST:PORT for Prometheus text at /metrics (off by default)',
  drain_timeout: 'seconds SIGTERM waits for the queues to drain (default 10)',
};

const SECRET_KEYS = new Set(['remote_password', 'local_password', 'wifi_password', 'pin', 'bridge_psk']);

export interface BridgeConfig {
  id: string;
  local: { host: string; port: number; clientId: string; username?: string; password?: string };
  remote: RemoteSessionOptions & { host: string; port: number; tls: TlsSettings | undefined };
  modem: ModemSessionOptions | undefined;
  routes: Route[];
  restart: { baseMs: number; capMs: number | undefined };
  notifications: { enabled: boolean; topic: string };
  queue: { dir: string; maxMessages?: number; maxBytes?: number; maxAgeMs?: number; fsync: FsyncPolicy };
  status: { topic: string; intervalMs: number };
  metrics: string | undefined;
  drainMs: number;
  /** Minutes of the flight recorder (trace_dir) a snapshot copies aside. */
  snapshotMinutes: number;
}

function usage(message: string, fix?: string): AtbridgeError {
  return new AtbridgeError('bad-config', message, { exitCode: ExitCode.usage, ...(fix ? { fix } : {}) });
}

/** Reads a config file; an unknown key or a bad line is one error naming file and line. */
export function readConfigFile(path: string): Settings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(`cannot read config file ${path}: ${fsReason(err)}`);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, name = 'config'): Settings {
  const settings: Settings = new Map();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const key = m[1]!;
    const value = (m[2] ?? '').trim();
    if (!(key in KEYS)) {
      throw usage(`${name}:${index + 1}: unknown key "${key}"`, `known keys: ${Object.keys(KEYS).join(', ')}`);
    }
    if (value === '') throw usage(`${name}:${index + 1}: "${key}" needs a value`);
    if (key === 'topic') settings.set(key, [...(settings.get(key) ?? []), value]);
    else settings.set(key, [value]);
  });
  return settings;
}

/** File settings with the command line's on top (topics from both). */
export function mergeSettings(file: Settings, flags: Settings): Settings {
  const merged: Settings = new Map(file);
  for (const [key, values] of flags) {
    merged.set(key, key === 'topic' ? [...(file.get(key) ?? []), ...values] : values);
  }
  return merged;
}

/** The settings as a config file, secrets masked (for --print-config and logs). */
export function printSettings(settings: Settings): string {
  const lines: string[] = [];
  for (const key of Object.keys(KEYS)) {
    for (const value of settings.get(key) ?? []) lines.push(`${key} ${maskValue(key, value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A resolved configuration as settings again: every key the bridge uses, defaults and values taken
 * from the environment or a user:password@ URL included, so that `printSettings(configSettings(c))`
 * is what --print-config shows and, read back with `--config`, resolves to the same configuration.
 */
export function configSettings(config: BridgeConfig): Settings {
  const s: Settings = new Map();
  const set = (key: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) s.set(key, [String(value)]);
  };
  const secs = (ms: number) => String(ms / 1000);
  const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { local, remote, modem, queue } = config;

  set('connection', config.id);
  set('local', `mqtt://${hostPort(local.host, local.port)}`);
  set('remote', `${remote.tls ? 'mqtts' : 'mqtt'}://${hostPort(remote.host, remote.port)}`);
  if (modem) {
    set('device', modem.device);
    set('profile', modem.profile ?? 'auto');
    set('baud', modem.baud ?? 'auto');
    set('set_baud', modem.setBaud);
    set('baud_fallback', modem.baudFallback ?? false);
    set('transparent', modem.transparent ?? false);
    set('recv_mode', modem.recvMode ?? 'push');
    set('apn', modem.apn);
    set('pin', modem.pin);
    set('wifi_ssid', modem.wifiSsid);
    set('wifi_password', modem.wifiPassword);
    set('trace', modem.trace);
    set('trace_dir', modem.traceDir);
  }
  s.set('topic', config.routes.map(routeLine));
  set('remote_clientid', remote.clientId);
  set('remote_username', remote.username);
  set('remote_password', remote.password);
  set('local_clientid', local.clientId);
  set('local_username', local.username);
  set('local_password', local.password);
  set('cleansession', remote.clean);
  set('keepalive_interval', remote.keepalive);
  set('connect_timeout', remote.connectTimeoutMs !== undefined ? secs(remote.connectTimeoutMs) : undefined);
  set('restart_timeout', [config.restart.baseMs, config.restart.capMs].filter((ms) => ms !== undefined).map(secs).join(' '));
  set('notifications', config.notifications.enabled);
  set('notification_topic', config.notifications.topic);
  set('bridge_protocol_version', remote.protocolVersion === 5 ? 'mqttv50' : 'mqttv311');
  set('try_private', remote.tryPrivate);
  const tls = remote.tls;
  if (tls) {
    set('bridge_cafile', tls.cafile);
    set('bridge_capath', tls.capath);
    set('bridge_certfile', tls.cert);
    set('bridge_keyfile', tls.key);
    set('bridge_insecure', tls.insecure ?? false);
    set('bridge_identity', tls.psk?.identity);
    set('bridge_psk', tls.psk?.key);
  }
  set('queue_dir', queue.dir);
  set('queue_max_messages', queue.maxMessages);
  set('queue_max_bytes', queue.maxBytes);
  set('queue_max_age', queue.maxAgeMs !== undefined ? secs(queue.maxAgeMs) : undefined);
  set('queue_fsync', queue.fsync);
  set('status_topic', config.status.topic);
  set('status_interval', secs(config.status.intervalMs));
  set('metrics', config.metrics);
  set('drain_timeout', secs(config.drainMs));
  set('snapshot_minutes', config.snapshotMinutes);
  return s;
}

/** What --print-config shows: the configuration in effect as a config file, every secret that is set as `***`. */
export function printConfig(config: BridgeConfig): string {
  return printSettings(configSettings(config));
}

/** A route as a full topic line: `PATTERN DIRECTION QOS [LOCAL_PREFIX REMOTE_PREFIX]`, `""` for empty. */
function routeLine(route: Route): string {
  const word = (w: string) => (w === '' ? '""' : w);
  const prefixes = route.localPrefix !== '' || route.remotePrefix !== '' ? [word(route.localPrefix), word(route.remotePrefix)] : [];
  return [word(route.pattern), route.direction, String(route.qos), ...prefixes].join(' ');
}

function maskValue(key: string, value: string): string {
  if (SECRET_KEYS.has(key)) return '***';
  if (key === 'device') return value.replace(/password=[^&]*/, 'password=***');
  return value.replace(/^(mqtts?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/** Turns settings into a checked configuration; every bad value is a one-line error. */
export function resolveConfig(s: Settings, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  for (const [key, values] of s) {
    // A config file cannot hold an empty value (parseConfigText refuses it); flags can. `topic` says why itself.
    if (key !== 'topic' && values.some((v) => v.trim() === '')) throw usage(`${key} needs a value, not ""`);
  }
  const get = (key: string) => s.get(key)?.[0];
  const id = get('connection') ?? hostname();
  if (/[+#/]/.test(id)) throw usage(`connection "${id}" must not hold '/', '+' or '#' (it becomes part of topics)`);

  const local = parseBrokerUrl(get('local') ?? 'mqtt://127.0.0.1:1883', 'local', false);
  const remoteText = get('remote') ?? (get('address') !== undefined ? `mqtt://${get('address')!.split(/\s+/)[0]}` : undefined);
  if (remoteText === undefined) throw usage('no remote broker given', 'pass --remote mqtt://host:port (or remote / address in the config file)');
  const remote = parseBrokerUrl(remoteText, 'remote', true);
  const psk = get('bridge_psk') ?? env.ATBRIDGE_REMOTE_PSK;
  const identity = get('bridge_identity');
  const certificates = get('bridge_cafile') !== undefined || get('bridge_capath') !== undefined || get('bridge_certfile') !== undefined;
  const tlsWanted = remote.secure || certificates || psk !== undefined;
  if ((get('bridge_certfile') === undefined) !== (get('bridge_keyfile') === undefined)) throw usage('bridge_certfile and bridge_keyfile go together');
  if ((psk === undefined) !== (identity === undefined)) {
    throw usage(get('bridge_psk') === undefined && psk !== undefined ? 'ATBRIDGE_REMOTE_PSK is set: bridge_identity must go with it' : 'bridge_psk and bridge_identity go together');
  }
  if (psk !== undefined && certificates) throw usage('use either bridge_psk or certificates (bridge_cafile/bridge_capath/bridge_certfile), not both');
  const badPsk = psk !== undefined ? pskProblem(psk) : undefined;
  if (badPsk) throw usage(`bridge_psk ${badPsk}`);
  const tls: TlsSettings | undefined = tlsWanted
    ? {
        ...(get('bridge_cafile') !== undefined ? { cafile: get('bridge_cafile')! } : {}),
        ...(get('bridge_capath') !== undefined ? { capath: get('bridge_capath')! } : {}),
        ...(get('bridge_certfile') !== undefined ? { cert: get('bridge_certfile')! } : {}),
        ...(get('bridge_keyfile') !== undefined ? { key: get('bridge_keyfile')! } : {}),
        ...(bool(s, 'bridge_insecure', false) ? { insecure: true } : {}),
        ...(psk !== undefined ? { psk: { identity: identity!, key: psk } } : {}),
      }
    : undefined;
  if (tls && !tls.psk) readTlsFiles(tls, { cafile: 'bridge_cafile', capath: 'bridge_capath', cert: 'bridge_certfile', key: 'bridge_keyfile' });

  const topics = s.get('topic') ?? [];
  if (topics.length === 0) throw usage('no topic given: nothing to bridge', "add --topic 'sensors/# out 1' (or topic lines in the config file)");
  const routes = topics.map(parseTopicLine);

  const restartWords = (get('restart_timeout') ?? '5 30').split(/\s+/);
  if (restartWords.length > 2) throw usage(`restart_timeout takes BASE [CAP] seconds, not "${get('restart_timeout')}"`);
  const baseMs = seconds('restart_timeout', restartWords[0]!, 0.01);
  const capMs = restartWords[1] !== undefined ? seconds('restart_timeout', restartWords[1], baseMs / 1000) : undefined;

  const device = get('device');
  let modem: ModemSessionOptions | undefined;
  if (device !== undefined) {
    const modemCli: ModemCliOptions = { device };
    const pick = <K extends keyof ModemCliOptions>(field: K, key: string, convert: (v: string) => ModemCliOptions[K]) => {
      const v = get(key);
      if (v !== undefined) modemCli[field] = convert(v);
    };
    pick('profile', 'profile', String);
    pick('baud', 'baud', String);
    pick('setBaud', 'set_baud', (v) => integer('set_baud', v, 300, 5_000_000));
    pick('baudFallback', 'baud_fallback', (v) => parseBool('baud_fallback', v));
    pick('transparent', 'transparent', (v) => parseBool('transparent', v));
    pick('recvMode', 'recv_mode', String);
    pick('apn', 'apn', String);
    pick('pin', 'pin', String);
    pick('wifiSsid', 'wifi_ssid', String);
    pick('wifiPassword', 'wifi_password', String);
    pick('trace', 'trace', String);
    pick('traceDir', 'trace_dir', String);
    const pin = get('pin') ?? env.ATBRIDGE_SIM_PIN;
    if (pin !== undefined) modemCli.pin = pin;
    const wifiPassword = get('wifi_password') ?? env.ATBRIDGE_WIFI_PASSWORD;
    if (wifiPassword !== undefined) modemCli.wifiPassword = wifiPassword;
    const remotePassword = get('remote_password') ?? remote.password ?? env.ATBRIDGE_REMOTE_PASSWORD;
    // The session's own defaults, spelled out so the resolved settings (and --print-config) show them.
    modem = { profile: 'auto', transparent: false, recvMode: 'push', ...modemSessionOptions(modemCli, remotePassword ? { secrets: [remotePassword] } : {}) };
  }

  const protocol = (get('bridge_protocol_version') ?? 'mqttv311').toLowerCase();
  const protocolVersion = ['mqttv311', '311', '3.1.1'].includes(protocol) ? 4 : ['mqttv50', 'mqttv5', '5', '5.0'].includes(protocol) ? 5 : undefined;
  if (protocolVersion === undefined) throw usage(`bridge_protocol_version must be mqttv311 or mqttv50, not "${protocol}"`);

  const remoteUser = get('remote_username') ?? remote.username;
  const remotePassword = get('remote_password') ?? remote.password ?? env.ATBRIDGE_REMOTE_PASSWORD;
  if (remotePassword !== undefined && remoteUser === undefined) throw usage('remote_password needs remote_username');
  const localUser = get('local_username') ?? local.username;
  const localPassword = get('local_password') ?? local.password ?? env.ATBRIDGE_LOCAL_PASSWORD;
  if (localPassword !== undefined && localUser === undefined) throw usage('local_password needs local_username');

  const fsync = get('queue_fsync') ?? 'always';
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') throw usage(`queue_fsync must be always, interval or never, not "${fsync}"`);
  const maxAge = get('queue_max_age');

  const keepalive = integer('keepalive_interval', get('keepalive_interval') ?? '60', 0, 65535);
  return {
    id,
    local: {
      host: local.host,
      port: local.port,
      clientId: get('local_clientid') ?? `atbridge-local-${id}`,
      ...(localUser !== undefined ? { username: localUser } : {}),
      ...(localPassword !== undefined ? { password: localPassword } : {}),
    },
    remote: {
      host: remote.host,
      port: remote.port,
      tls,
      clientId: get('remote_clientid') ?? `atbridge-${id}`,
      ...(remoteUser !== undefined ? { username: remoteUser } : {}),
      ...(remotePassword !== undefined ? { password: remotePassword } : {}),
      clean: bool(s, 'cleansession', false),
      keepalive,
      connectTimeoutMs: get('connect_timeout') !== undefined ? seconds('connect_timeout', get('connect_timeout')!, 0.1) : defaultConnectTimeoutMs(keepalive),
      protocolVersion,
      tryPrivate: bool(s, 'try_private', true),
    },
    modem,
    routes,
    restart: { baseMs, capMs },
    notifications: { enabled: bool(s, 'notifications', true), topic: get('notification_topic') ?? `atbridge/${id}/state` },
    queue: {
      dir: get('queue_dir') ?? env.ATBRIDGE_QUEUE_DIR ?? join(homedir(), '.local', 'state', 'atbridge', id),
      maxMessages: integer('queue_max_messages', get('queue_max_messages') ?? '100000', 1),
      maxBytes: integer('queue_max_bytes', get('queue_max_bytes') ?? String(64 * 1024 * 1024), 1024),
      ...(maxAge !== undefined ? { maxAgeMs: seconds('queue_max_age', maxAge, 1) } : {}),
      fsync,
    },
    status: { topic: get('status_topic') ?? `atbridge/${id}/status`, intervalMs: seconds('status_interval', get('status_interval') ?? '60', 0) },
    metrics: get('metrics'),
    drainMs: seconds('drain_timeout', get('drain_timeout') ?? '10', 0),
    snapshotMinutes: integer('snapshot_minutes', get('snapshot_minutes') ?? '30', 1, 7 * 24 * 60),
  };
}

interface BrokerUrl {
  secure: boolean;
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
}

export function parseBrokerUrl(value: string, key: string, tlsAllowed: boolean): BrokerUrl {
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `mqtt://${value}`);
  } catch {
    throw usage(`${key} must be mqtt://host:port, not "${maskValue(key, value)}"`);
  }
  const secure = url.protocol === 'mqtts:';
  if (url.protocol !== 'mqtt:' && !(secure && tlsAllowed)) {
    throw usage(`${key} must use ${tlsAllowed ? 'mqtt:// or mqtts://' : 'mqtt://'}, not "${url.protocol}//"`);
  }
  if (url.hostname === '') throw usage(`${key} has no host: "${maskValue(key, value)}"`);
  return {
    secure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port !== '' ? Number(url.port) : secure ? 8883 : 1883,
    username: url.username !== '' ? decodeURIComponent(url.username) : undefined,
    password: url.password !== '' ? decodeURIComponent(url.password) : undefined,
  };
}

function bool(s: Settings, key: string, fallback: boolean): boolean {
  const v = s.get(key)?.[0];
  return v === undefined ? fallback : parseBool(key, v);
}

function parseBool(key: string, value: string): boolean {
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw usage(`${key} must be true or false, not "${value}"`);
}

function integer(key: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${key} must be a whole number from ${min} to ${max}, not "${value}"`);
  return n;
}

/**
 * How long a TLS handshake (and then the CONNACK) may take: half the keepalive, within 5 to 30 s
 * (30 s without keepalive). A healthy handshake through a module is a few round trips and a few
 * KiB; one that stalls (a damaged record header makes TLS wait for bytes that never come) is
 * abandoned then and made again, instead of waiting out a fixed 30 s.
 */
export function defaultConnectTimeoutMs(keepaliveSeconds: number): number {
  if (keepaliveSeconds === 0) return 30_000;
  return Math.min(30_000, Math.max(5_000, keepaliveSeconds * 500));
}

/** Seconds (fractions allowed) → ms. */
function seconds(key: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw usage(`${key} must be a number of seconds of at least ${min}, not "${value}"`);
  return Math.round(n * 1000);
}
