/**
 * --ws / ws:// / wss://: MQTT over WebSocket (subprotocol "mqtt", path /mqtt as mosquitto's
 * clients use), on a stream that is already open (TCP, TLS, or the module's socket), by `ws`.
 */
import type { Duplex } from 'node:stream';
import WebSocket, { createWebSocketStream } from 'ws';
import { AtbridgeError, errorMessage } from '../../errors.js';

export function websocketStream(stream: Duplex, target: { host: string; port: number; secure: boolean }): Promise<Duplex> {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const url = `${target.secure ? 'wss' : 'ws'}://${host}:${target.port}/mqtt`;
  return new Promise((resolve, reject) => {
    // The stream is open already (and TLS, when asked, runs inside it): hand it to the HTTP upgrade as is.
    const ws = new WebSocket(url, 'mqtt', { createConnection: () => stream as never, perMessageDeflate: false });
    const onError = (err: Error) => {
      stream.destroy();
      reject(new AtbridgeError('mqtt-connect-failed', `WebSocket upgrade at ${url} failed: ${errorMessage(err)}`, { cause: err }));
    };
    ws.once('error', onError);
    ws.once('open', () => {
      ws.off('error', onError);
      resolve(createWebSocketStream(ws));
    });
  });
}
