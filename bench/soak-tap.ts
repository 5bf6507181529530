import { createWriteStream } from 'node:fs';
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * SOAK_LOCAL_TAP=1: the bridge reaches the local broker through this TCP hop, which writes every
 * PUBLISH, PUBREC, PUBREL and PUBCOMP it carries, both ways, with the time and connection number
 * (dir/local-tap.log): where a duplicate left the bridge, and with which packet id.
 */
export async function startMqttTap(target: number, file: string): Promise<{ port: number; close(): Promise<void> }> {
  const out = createWriteStream(file, { flags: 'a' });
  let n = 0;
  const server = net.createServer((host) => {
    const conn = ++n;
    const broker = net.connect(target, '127.0.0.1');
    const watch = (dir: string) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      parser.on('packet', (p: Packet) => {
        if (p.cmd === 'publish') out.write(`${Date.now()} c${conn} ${dir} publish d${p.dup ? 1 : 0} q${p.qos} m${p.messageId ?? '-'} ${p.topic} ${Buffer.from(p.payload).toString('latin1')}\n`);
        else if (p.cmd === 'pubrec' || p.cmd === 'pubrel' || p.cmd === 'pubcomp' || p.cmd === 'connack' || p.cmd === 'connect') out.write(`${Date.now()} c${conn} ${dir} ${p.cmd} m${'messageId' in p ? p.messageId : '-'}${p.cmd === 'connack' ? ` sp${p.sessionPresent ? 1 : 0}` : ''}\n`);
      });
      parser.on('error', () => {});
      return parser;
    };
    const up = watch('>');
    const down = watch('<');
    host.on('data', (d) => {
      up.parse(d);
      broker.write(d);
    });
    broker.on('data', (d) => {
      down.parse(d);
      host.write(d);
    });
    const drop = () => {
      host.destroy();
      broker.destroy();
    };
    for (const s of [host, broker]) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(() => out.end(r))),
  };
}
