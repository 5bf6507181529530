import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { AtbridgeError, errorMessage } from '../errors.js';
import { FrameReader } from './frame-reader.js';

export interface PacketLinkEvents {
  packet: [packet: Packet];
  /** Emitted once, when the stream is gone (closed by either side or failed). */
  lost: [error: AtbridgeError | undefined];
}

/**
 * One byte stream to the broker seen as MQTT packets: frames and size-checks what arrives, parses
 * it with the protocol version, and writes each outgoing packet as one generated Buffer in one
 * write() — on a modem every write becomes an AT+CIPSEND of its own.
 */
export class PacketLink extends EventEmitter<PacketLinkEvents> {
  private readonly reader: FrameReader;
  private readonly parser: ReturnType<typeof mqttPacket.parser>;
  private gone = false;
  private error: AtbridgeError | undefined;

  constructor(
    readonly stream: Duplex,
    private readonly protocolVersion: number,
    maxPacketSize: number,
  ) {
    super();
    this.reader = new FrameReader(maxPacketSize);
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (packet: Packet) => {
      if (!this.gone) this.emit('packet', packet);
    });
    this.parser.on('error', (err: Error) => this.fail(new AtbridgeError('mqtt-malformed', `malformed packet from the broker: ${err.message}`)));
    stream.on('data', this.onData);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
    stream.on('end', this.onEnd);
  }

  /** True while a packet is partly received. */
  get receiving(): boolean {
    return this.reader.partial;
  }

  get lost(): boolean {
    return this.gone;
  }

  send(packet: Packet, written?: () => void): boolean {
    if (this.gone) return false;
    const bytes = mqttPacket.generate(packet, { protocolVersion: this.protocolVersion });
    this.stream.write(bytes, written ? () => written() : undefined);
    return true;
  }

  /** Ends the stream politely (after a DISCONNECT); destroys it if the peer does not close in `graceMs`. */
  end(graceMs = 2000): void {
    if (this.gone) return;
    this.stream.end();
    setTimeout(() => this.stream.destroy(), graceMs).unref();
  }

  /** Drops the link because of `error`. */
  fail(error: AtbridgeError): void {
    if (this.gone) return;
    this.error = error;
    this.stream.destroy();
    // Some Duplexes (a ModemSocket whose module died) may never emit close: do not wait for it.
    setImmediate(() => this.markLost());
  }

  destroy(): void {
    if (!this.gone) this.stream.destroy();
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.gone) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(err instanceof AtbridgeError ? err : new AtbridgeError('mqtt-malformed', errorMessage(err)));
      return;
    }
    for (const frame of frames) {
      if (this.gone) return;
      this.parser.parse(frame);
    }
  };

  private readonly onError = (err: Error) => {
    this.error ??= new AtbridgeError('mqtt-link-error', `connection to the broker failed: ${err.message}`, { cause: err });
  };

  private readonly onClose = () => this.markLost();

  private readonly onEnd = () => {
    if (!this.gone) this.stream.destroy(); // the broker half-closed: the session is over
  };

  private markLost(): void {
    if (this.gone) return;
    this.gone = true;
    this.stream.off('data', this.onData);
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
    this.stream.off('end', this.onEnd);
    this.stream.on('error', () => {}); // a late error from a dead stream must not crash the process
    this.reader.reset();
    this.emit('lost', this.error);
  }
}
