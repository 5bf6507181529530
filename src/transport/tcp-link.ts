import net from 'node:net';
import { AtbridgeError, EndCode, ExitCode } from '../errors.js';
import type { LinkCapabilities } from './link.js';
import { LinkBase } from './link.js';

/** A module reached over raw TCP, as ser2net (or `atbridge emulate --listen`) exposes it. */
export class TcpLink extends LinkBase {
  readonly description: string;
  readonly capabilities: LinkCapabilities = { baud: false, dtr: false };
  readonly baud = undefined;

  private constructor(private readonly socket: net.Socket, host: string, port: number) {
    super();
    this.description = `tcp://${host}:${port}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.emit('data', chunk));
    // ECONNRESET, EPIPE, ETIMEDOUT: net.Socket closes right after; the error is that close's reason.
    let failure: Error | undefined;
    socket.on('error', (err) => (failure ??= err));
    socket.on('close', () => this.emit('close', failure));
  }

  static open(host: string, port: number, timeoutMs = 10_000): Promise<TcpLink> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new AtbridgeError('port-missing', `tcp://${host}:${port} did not answer within ${timeoutMs} ms`, { exitCode: ExitCode.portMissing }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpLink(socket, host, port));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new AtbridgeError('port-missing', `cannot reach tcp://${host}:${port}: ${err.message}`, {
            exitCode: ExitCode.portMissing,
            fix: 'check that ser2net (or `atbridge emulate --listen`) runs there and the port is right',
            cause: err,
          }),
        );
      });
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed;
  }

  write(data: Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.reject(new AtbridgeError(EndCode.linkClosed, `${this.description} is closed`));
    return new Promise((resolve, reject) =>
      this.socket.write(data, (err) => (err ? reject(new AtbridgeError(EndCode.linkClosed, `${this.description}: ${err.message}`, { cause: err })) : resolve())),
    );
  }

  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
}
