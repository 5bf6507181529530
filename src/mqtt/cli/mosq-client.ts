/** The MqttClient a pub/sub/rr run uses, made from its MosqConfig, with mosquitto's -d lines and error words. */
import mqttPacket from 'mqtt-packet';
import { AtbridgeError, errorMessage, isAtbridgeError } from '../../errors.js';
import { MqttClient, type MqttClientOptions } from '../client.js';
import { attachDebug, modemProgress } from './debug.js';
import type { MosqConfig } from './mosq-args.js';
import { makeMosqConnector, type Connector } from './mosq-connect.js';

// mqtt-packet builds 65,536 two-byte buffers on its first packet unless told not to: 20 ms of a
// short-lived CLI's start-up (and its garbage), for a cache a few packets never repay.
mqttPacket.writeToStream.cacheNumbers = false;

export interface Run {
  client: MqttClient;
  connector: Connector;
  say: (line: string) => void;
  warn: (line: string) => void;
}

/** mosquitto's client id when none is given: "mosq-" and random characters (here: atbridge-<tool>-<pid>). */
export function clientId(cfg: MosqConfig): string {
  if (cfg.id !== undefined) return cfg.id;
  if (cfg.idPrefix !== undefined) return `${cfg.idPrefix}${process.pid}`;
  return `atbridge-${cfg.tool}-${process.pid}`;
}

const defined = (o: Record<string, unknown>) => (Object.keys(o).length > 0 ? o : undefined);

export function makeRun(cfg: MosqConfig, extra: Partial<MqttClientOptions> = {}): Run {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const warn = (line: string) => {
    if (!cfg.quiet) process.stderr.write(`${line}\n`);
  };
  const connector = makeMosqConnector(cfg, modemProgress(cfg.debug, say));
  const password = cfg.password ?? process.env.ATBRIDGE_MQTT_PASSWORD;
  const options: MqttClientOptions = {
    connect: connector.connect,
    clientId: clientId(cfg),
    protocolVersion: cfg.protocolVersion,
    keepalive: cfg.keepalive,
    clean: cfg.cleanSession,
    inflight: cfg.maxInflight,
    reconnect: { baseMs: 500, capMs: 30_000 },
    ...extra,
  };
  if (cfg.username !== undefined) options.username = cfg.username;
  if (password !== undefined) options.password = password;
  if (cfg.protocolVersion === 5) {
    options.sessionExpiry = cfg.sessionExpiry > 0 ? cfg.sessionExpiry : 0;
    const connect = { ...cfg.props.connect };
    delete connect.sessionExpiryInterval;
    // As mosquitto: with -C below 20, a receive maximum of -C so no more than -C arrive before we stop.
    if (cfg.msgCount > 0 && cfg.msgCount < 20 && connect.receiveMaximum === undefined) connect.receiveMaximum = cfg.msgCount;
    const props = defined(connect);
    if (props) options.connectProperties = props as MqttClientOptions['connectProperties'];
  }
  if (cfg.will) {
    options.will = { topic: cfg.will.topic, payload: cfg.will.payload ?? '', qos: cfg.will.qos, retain: cfg.will.retain };
    const willProps = defined(cfg.props.will);
    if (willProps && cfg.protocolVersion === 5) options.will.properties = willProps as never;
  }
  const client = new MqttClient(options);
  if (cfg.debug) attachDebug(client, say);
  return { client, connector, say, warn };
}

/** What mosquitto prints when the connection cannot be made or is refused, and the exit code. */
export function connectFailure(err: unknown, warn: (line: string) => void): number {
  if (isAtbridgeError(err, 'mqtt-connect-refused')) {
    const reason = String(err.detail?.reason ?? err.message);
    warn(`Connection error: Connection Refused: ${reason}.`);
    return err.exitCode;
  }
  if (err instanceof AtbridgeError && err.code === 'mqtt-connect-failed' && err.cause !== undefined) {
    warn(`Error: ${err.message}`);
    return 1;
  }
  warn(`Error: ${errorMessage(err)}`);
  if (err instanceof AtbridgeError && err.fix) warn(`  fix: ${err.fix}`);
  return err instanceof AtbridgeError && err.exitCode > 0 ? err.exitCode : 1;
}
