import net from 'node:net';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** Loopback always; anything else only when allowed (the emulator must not wander the network). */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  return LOOPBACK.test(host) || allow.includes(host) || allow.includes('*');
}

/**
 * A real TCP connection behind an emulated module socket, with the network's round trip added
 * to the connect and to data each way (half the round trip per direction).
 */
export class NetBridge {
  private socket: net.Socket | undefined;
  private closedByUs = false;
  constructor(
    private readonly rttMs: number,
    private readonly events: { data(chunk: Buffer): void; closed(): void },
  ) {}

  connect(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const fail = (err: Error) => reject(err);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.on('error', () => {});
        this.socket = socket;
        socket.on('data', (chunk) => this.later(() => this.events.data(chunk)));
        socket.on('close', () => {
          if (!this.closedByUs) this.later(() => this.events.closed());
        });
        setTimeout(resolve, this.rttMs);
      });
    });
  }

  send(data: Buffer): void {
    const socket = this.socket;
    this.later(() => socket?.write(data));
  }

  close(): void {
    this.closedByUs = true;
    this.socket?.destroy();
    this.socket = undefined;
  }

  /** Stop reading from the network (the module's receive buffer is full: TCP flow control takes over). */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  get open(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  private later(fn: () => void): void {
    if (this.rttMs <= 0) fn();
    else setTimeout(fn, this.rttMs / 2);
  }
}
