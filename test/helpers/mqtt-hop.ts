import net from 'node:net';
import { packetSize } from '../../src/mqtt/frame-reader.js';

/** MQTT control packet types (the high nibble of the first byte). */
export const PUBREL = 6;
export const PUBCOMP = 7;

/**
 * A raw TCP hop in front of a real broker that cuts both byte streams into MQTT packets (fixed
 * header and remaining length only; the bytes are passed on untouched), counts what passes, and
 * can withhold the client's packets of one type: a PUBCOMP that never reaches a broker stopped
 * right after its PUBREL, without timing. Everything else passes both ways as it came.
 */
export interface MqttHop {
  port: number;
  /** Withhold (drop) the client's packets of this type from now on; undefined passes all again. */
  withhold(type: number | undefined): void;
  /** Packets withheld so far. */
  readonly withheld: number;
  /** Packets of this type passed on so far: `toBroker` from the client, `toClient` from the broker. */
  passed(direction: 'toBroker' | 'toClient', type: number): number;
  close(): void;
}

/** True once every PUBREL the broker sent has had its PUBCOMP passed on: no QoS 2 flow half done. */
export function qos2Settled(hop: MqttHop): boolean {
  return hop.passed('toBroker', PUBCOMP) === hop.passed('toClient', PUBREL);
}

export async function startMqttHop(target: { host?: string; port: number }): Promise<MqttHop> {
  let withholding: number | undefined;
  let withheld = 0;
  const counts = { toBroker: new Array<number>(16).fill(0), toClient: new Array<number>(16).fill(0) };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect(target.port, target.host ?? '127.0.0.1');
    sockets.add(client).add(broker);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(broker);
      client.destroy();
      broker.destroy();
    };
    for (const s of [client, broker]) {
      s.on('error', drop);
      s.on('close', drop);
    }
    const cut = (from: net.Socket, to: net.Socket, direction: 'toBroker' | 'toClient') => {
      let pending = Buffer.alloc(0);
      from.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const length = packetSize(pending);
          if (length === undefined || pending.length < length) break;
          const packet = pending.subarray(0, length);
          pending = pending.subarray(length);
          const type = packet[0]! >> 4;
          if (direction === 'toBroker' && withholding !== undefined && type === withholding) {
            withheld++;
            continue;
          }
          to.write(packet);
          counts[direction][type] = counts[direction][type]! + 1;
        }
      });
    };
    cut(client, broker, 'toBroker');
    cut(broker, client, 'toClient');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    withhold(type) {
      withholding = type;
    },
    get withheld() {
      return withheld;
    },
    passed(direction, type) {
      return counts[direction][type]!;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
