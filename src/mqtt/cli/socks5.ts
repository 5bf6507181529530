/** --proxy: a SOCKS5 CONNECT (with user name and password when given) over an open stream, by the `socks` library. */
import type { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import { AtbridgeError, errorMessage } from '../../errors.js';
import type { ProxyConfig } from './mosq-args.js';

export async function socks5Handshake(stream: Duplex, proxy: ProxyConfig, host: string, port: number): Promise<Duplex> {
  try {
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: proxy.host,
        port: proxy.port,
        type: 5,
        ...(proxy.username !== undefined ? { userId: proxy.username } : {}),
        ...(proxy.password !== undefined ? { password: proxy.password } : {}),
      },
      command: 'connect',
      destination: { host, port },
      existing_socket: stream,
      timeout: 30_000,
    });
    return socket;
  } catch (err) {
    stream.destroy();
    // Never the proxy password: only the library's reason.
    throw new AtbridgeError('mqtt-connect-failed', `SOCKS5 proxy ${proxy.host}:${proxy.port}: ${errorMessage(err)}`, { cause: err });
  }
}
