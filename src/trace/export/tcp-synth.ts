/**
 * Builds IPv4/TCP packets for a socket the module carried, so a capture tool's TCP and MQTT
 * dissectors read the bytes as they crossed: synthetic addresses (RFC 5737 documentation ranges),
 * a handshake when the socket first carries data, sequence and acknowledgement numbers kept.
 */
const CLIENT = [192, 0, 2, 1];
const SERVER = [198, 51, 100, 1];
const MSS = 1460;

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function packet(src: number[], dst: number[], srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Buffer, id: number): Buffer {
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  payload.copy(tcp, 20);
  const pseudo = Buffer.alloc(12);
  Buffer.from(src).copy(pseudo, 0);
  Buffer.from(dst).copy(pseudo, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(tcp.length, 10);
  let partial = 0;
  for (let i = 0; i < 12; i += 2) partial += pseudo.readUInt16BE(i);
  tcp.writeUInt16BE(checksum(tcp, partial), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcp.length, 2);
  ip.writeUInt16BE(id & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, tcp]);
}

interface Connection {
  clientPort: number;
  clientSeq: number;
  serverSeq: number;
}

/** The TCP view of every link of a capture: one connection per link, opened on its first bytes. */
export class TcpSynth {
  private readonly connections = new Map<string, Connection>();
  private id = 1;
  private nextPort = 40001;
  packets = 0;

  constructor(private readonly serverPort = 1883) {}

  get links(): number {
    return this.connections.size;
  }

  /** Packets for bytes on a link: `up` from the host's side to the server, `down` back. */
  data(link: string, direction: 'up' | 'down', bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const c = this.connection(link, out);
    for (let at = 0; at < bytes.length; at += MSS) {
      const chunk = bytes.subarray(at, at + MSS);
      if (direction === 'up') {
        out.push(packet(CLIENT, SERVER, c.clientPort, this.serverPort, c.clientSeq, c.serverSeq, PSH | ACK, chunk, this.id++));
        c.clientSeq += chunk.length;
      } else {
        out.push(packet(SERVER, CLIENT, this.serverPort, c.clientPort, c.serverSeq, c.clientSeq, PSH | ACK, chunk, this.id++));
        c.serverSeq += chunk.length;
      }
    }
    this.packets += out.length;
    return out;
  }

  /** The link closed: a FIN each way, so the next bytes on it start a new connection. */
  close(link: string): Buffer[] {
    const c = this.connections.get(link);
    if (!c) return [];
    this.connections.delete(link);
    const out = [
      packet(CLIENT, SERVER, c.clientPort, this.serverPort, c.clientSeq, c.serverSeq, FIN | ACK, Buffer.alloc(0), this.id++),
      packet(SERVER, CLIENT, this.serverPort, c.clientPort, c.serverSeq, c.clientSeq + 1, FIN | ACK, Buffer.alloc(0), this.id++),
      packet(CLIENT, SERVER, c.clientPort, this.serverPort, c.clientSeq + 1, c.serverSeq + 1, ACK, Buffer.alloc(0), this.id++),
    ];
    this.packets += out.length;
    return out;
  }

  private connection(link: string, out: Buffer[]): Connection {
    let c = this.connections.get(link);
    if (c) return c;
    // A new port per connection, as a client's stack would pick.
    const clientPort = this.nextPort++;
    c = { clientPort, clientSeq: 1000, serverSeq: 5000 };
    out.push(packet(CLIENT, SERVER, clientPort, this.serverPort, c.clientSeq - 1, 0, SYN, Buffer.alloc(0), this.id++));
    out.push(packet(SERVER, CLIENT, this.serverPort, clientPort, c.serverSeq - 1, c.clientSeq, SYN | ACK, Buffer.alloc(0), this.id++));
    out.push(packet(CLIENT, SERVER, clientPort, this.serverPort, c.clientSeq, c.serverSeq, ACK, Buffer.alloc(0), this.id++));
    this.packets += 3;
    this.connections.set(link, c);
    return c;
  }
}
