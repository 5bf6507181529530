import { afterAll, describe, expect, it } from 'vitest';
import { openModemSession, type OpenedModemSession } from '../../src/modem/session.js';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';

/**
 * A connection destroyed and a new one asked for at once (a TLS handshake abandoned and made again
 * with no backoff): the module is still closing the old one. The new connect waits for that close
 * instead of failing with "socket-closing → socket-opening is not a transition".
 */
let echo: EchoServer | undefined;
let session: OpenedModemSession | undefined;
afterAll(async () => {
  await session?.close();
  await echo?.close();
});

describe('connect while the last connection is closing', () => {
  it('waits for the close, then opens', async () => {
    echo = await startEchoServer();
    session = await openModemSession({ device: 'emu:sim7600?pacing=0', profile: 'sim7600', baud: 115200 });
    for (let i = 0; i < 3; i++) {
      const socket = await session.connect('127.0.0.1', echo.port);
      socket.destroy();
    }
    const last = await session.connect('127.0.0.1', echo.port);
    const reply = new Promise<string>((resolve) => last.once('data', (d: Buffer) => resolve(d.toString())));
    last.write('hello');
    expect(await reply).toBe('hello');
    last.destroy();
  }, 30_000);
});
