import net from 'node:net';
import { Aedes } from 'aedes';
import pc from 'picocolors';
import { openModemSession } from '../modem/session.js';
import { MqttClient } from '../mqtt/index.js';
import { getProfile } from '../profile/index.js';
import { LiveView } from './live-view.js';

export interface DemoOptions {
  profile: 'sim7600' | 'esp-at';
  pacing: boolean;
  transparent: boolean;
  baud: number;
  quiet: boolean;
  out: (line: string) => void;
}

export interface DemoSummary {
  seconds: number;
  atCommands: number;
  urcs: number;
  serialBytesToModule: number;
  serialBytesFromModule: number;
  mqttPacketsSent: number;
  mqttPacketsReceived: number;
  published: number;
  received: string[];
}

/**
 * The no-hardware tour: an embedded broker (aedes) on a free loopback port, an emulated module,
 * an MQTT client whose TCP connection runs through the module's socket, and the serial
 * conversation decoded live.
 */
export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  // --quiet: the summary (printed by the caller) and nothing else.
  const out = o.quiet ? () => {} : o.out;
  const view = new LiveView(getProfile(o.profile), out);
  const say = (text: string) => out(pc.bold(text));
  say(`broker (aedes) on 127.0.0.1:${port}; emulated ${o.profile} at ${o.baud} baud${o.pacing ? ', paced like a real UART' : ''}`);

  const query = `baud=${o.baud}&pacing=${o.pacing ? 1 : 0}&boot=200&register=800&latency=3&rtt=30`;
  const session = await openModemSession(
    {
      device: `emu:${o.profile}?${query}`,
      profile: 'auto',
      baud: o.baud,
      transparent: o.transparent,
      apn: 'internet',
      wifiSsid: 'atbridge-lab',
      wifiPassword: 'correct horse',
      onProgress: (m) => out(pc.dim(`  ${m}`)),
    },
    { taps: [view], registrationPollMs: 300 },
  );
  const received: string[] = [];
  let sent = 0;
  let got = 0;
  const client = new MqttClient({ connect: () => session.connect('127.0.0.1', port), clientId: `atbridge-demo-${process.pid}`, keepalive: 30, reconnect: false });
  client.on('packetsend', (p) => {
    sent++;
    view.mqtt('send', p);
  });
  client.on('packetreceive', (p) => {
    got++;
    view.mqtt('receive', p);
  });
  const wanted = 4;
  const allIn = new Promise<void>((resolve) => {
    client.on('message', (topic, payload) => {
      received.push(`${topic} ${payload.toString()}`);
      if (received.length >= wanted) resolve();
    });
  });
  // A second client straight on the broker stands for the cloud side.
  const cloud = new MqttClient({
    connect: async () => net.connect(port, '127.0.0.1'),
    clientId: 'cloud-side',
    reconnect: false,
  });
  try {
    say('MQTT through the module: CONNECT, SUBSCRIBE demo/#, then three publishes at QoS 0, 1 and 2');
    await client.start();
    await client.subscribe('demo/#', { qos: 1 });
    await client.publish('demo/hello', 'hello from the gateway', { qos: 0 });
    await client.publish('demo/temp', '21.5', { qos: 1 });
    await client.publish('demo/door', 'closed', { qos: 2 });
    say('the cloud side publishes a command to demo/cmd; it arrives through the module');
    await cloud.start();
    await cloud.publish('demo/cmd', 'reboot-at-midnight', { qos: 1 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('messages did not come back in 30 s')), 30_000);
    });
    await Promise.race([allIn, timeout]).finally(() => clearTimeout(timer));
    await client.end();
  } finally {
    await cloud.end(true).catch(() => undefined);
    await session.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    server.close();
  }
  const wire = session.device.emulator?.wire;
  return {
    seconds: (performance.now() - started) / 1000,
    atCommands: view.commands,
    urcs: view.urcs,
    serialBytesToModule: wire?.bytesToModule ?? 0,
    serialBytesFromModule: wire?.bytesToHost ?? 0,
    mqttPacketsSent: sent,
    mqttPacketsReceived: got,
    published: 3,
    received,
  };
}
