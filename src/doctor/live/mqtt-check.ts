import { AtbridgeError, errorMessage } from '../../errors.js';
import { Modem } from '../../modem/modem.js';
import { MqttClient } from '../../mqtt/client.js';
import type { ModuleProfile } from '../../profile/index.js';
import type { TappedLink } from '../../transport/tap.js';
import { finding } from '../findings.js';
import type { CheckReporter } from './report.js';

export interface MqttCheckOptions {
  broker: { host: string; port: number };
  username?: string;
  password?: string;
  clientId?: string;
  /** How long to stay connected, watching for a clash or a dead keepalive. */
  watchMs: number;
  keepalive: number;
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
}

/**
 * The last check: a real MQTT CONNECT through the module (the driver brings it up on the same
 * link), then a few seconds connected. Refused credentials, a broker that drops us again and
 * again right after CONNACK (another client with our id) and an unanswered PINGREQ each become
 * their own finding.
 */
export async function mqttCheck(link: TappedLink, profile: ModuleProfile, baud: number, options: MqttCheckOptions, reporter: CheckReporter): Promise<void> {
  const { host, port } = options.broker;
  const modem = new Modem(link, {
    profile,
    baud,
    transparent: false,
    recvMode: 'push',
    attempts: 1,
    ...(options.apn !== undefined ? { apn: options.apn } : {}),
    ...(options.pin !== undefined ? { pin: options.pin } : {}),
    ...(options.wifiSsid !== undefined ? { wifiSsid: options.wifiSsid } : {}),
    ...(options.wifiPassword !== undefined ? { wifiPassword: options.wifiPassword } : {}),
  });
  const problems: AtbridgeError[] = [];
  const client = new MqttClient({
    connect: () => modem.connect(host, port),
    clientId: options.clientId ?? `atbridge-doctor-${process.pid}`,
    keepalive: options.keepalive,
    pingTimeoutMs: Math.max(2000, options.keepalive * 500),
    reconnect: { baseMs: 200, capMs: 500 },
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  });
  client.on('error', (err) => problems.push(err));
  let drops = 0;
  client.on('offline', () => drops++);
  try {
    const connack = await client.start();
    await new Promise((r) => setTimeout(r, options.watchMs));
    const clash = problems.find((p) => p.code === 'client-id-conflict');
    const keepalive = problems.find((p) => p.code === 'keepalive-timeout');
    if (clash) {
      reporter.fail('mqtt', `${host}:${port} accepted the CONNECT but dropped us ${drops} times right after: ${clash.message}`,
        finding('client-id-conflict', `the broker drops the connection right after CONNACK, again and again (${drops} times in ${Math.round(options.watchMs / 1000)} s): another client uses the same client id`, [reporter.evidence(clash.message)]));
    } else if (keepalive) {
      reporter.fail('mqtt', `PINGREQ went unanswered: ${keepalive.message}`, finding('keepalive-timeout', keepalive.message, [reporter.evidence(keepalive.message)]));
    } else {
      const code = connack.reasonCode ?? connack.returnCode ?? 0;
      reporter.pass('mqtt', `CONNECT to ${host}:${port} accepted (CONNACK ${code}), stayed up ${Math.round(options.watchMs / 1000)} s${drops ? ` with ${drops} drop(s)` : ''}`);
    }
  } catch (err) {
    const code = err instanceof AtbridgeError ? err.code : '';
    if (code === 'mqtt-connect-refused') {
      reporter.fail('mqtt', errorMessage(err), finding('mqtt-connect-refused', errorMessage(err), [reporter.evidence(errorMessage(err))]));
    } else {
      reporter.fail('mqtt', `MQTT through the module failed: ${errorMessage(err)}`,
        finding(code === 'socket-open-failed' ? 'socket-open-failed' : 'mqtt-connect-refused', `MQTT CONNECT to ${host}:${port} through the module failed: ${errorMessage(err)}`, [reporter.evidence(errorMessage(err))]));
    }
  } finally {
    await client.end(true).catch(() => undefined);
    await modem.close().catch(() => undefined);
  }
}
