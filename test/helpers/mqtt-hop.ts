import net from 'node:net';

/** MQTT control packet types (the high nibble of the first byte). */
export const PUBCOMP = 7;

/**
 * A raw TCP hop in front of a real broker that cuts the client's byte stream into MQTT packets
 * (fixed header and remaining length only; the bytes are passed on untouched) and can withhold the
 * client's packets of one type: a PUBCOMP that never reaches a broker stopped right after its
 * PUBREL, without timing. Everything else passes both ways as it came.
 */
export interface MqttHop {
  port: number;
  /** Withhold (drop) the client's packets of this type from now on; undefined passes all again. */
  withhold(type: number | undefined): void;
  /** Packets withheld so far. */
  readonly withheld: number;
  close(): void;
}

export async function startMqttHop(target: { host?: string; port: number }): Promise<MqttHop> {
  let withholding: number | undefined;
  let withheld = 0;
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
    broker.on('data', (chunk: Buffer) => client.write(chunk));
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const length = packetLength(pending);
        if (length === undefined) break;
        const packet = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (withholding !== undefined && packet[0]! >> 4 === withholding) withheld++;
        else broker.write(packet);
      }
    });
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
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Bytes of the first whole packet in `buffer`, or undefined while it is incomplete. */
function packetLength(buffer: Buffer): number | undefined {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i < 5 && i < buffer.length; i++) {
    const byte = buffer[i]!;
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) {
      const total = i + 1 + remaining;
      return buffer.length >= total ? total : undefined;
    }
  }
  return undefined;
}
