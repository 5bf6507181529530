import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModemSession } from '../../src/modem/session.js';
import { readBytes, startEchoServer, type EchoServer } from '../helpers/echo-server.js';

/**
 * A send's final lost on the line (issue 21's soak: a dropped final on AT+CIPSEND cost 11.2 s, the
 * profile's 10 s send timeout). SIMCom's SIM7600 and A76xx answer a send's data with OK and then
 * `+CIPSEND: link,req,cnf`, always in that order (MAN §11.2.5; the real log sim7600_09): the URC
 * seen without the OK means the OK was lost, and the URC says whether the data went (cnf = req).
 * The emulator drops the next final (`drop-final:1`); the URC still comes.
 */
let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

describe.each(['sim7600', 'a76xx'])('%s: the OK after a send\'s data is lost, its +CIPSEND URC comes', (family) => {
  it('the URC answers the send: the data arrives, the socket stays open and carries the next send', async () => {
    const session = await openModemSession({ device: `emu:${family}?pacing=0`, profile: 'auto', baud: 115200, apn: 'internet' }, { backoff: { baseMs: 50, capMs: 200 } });
    try {
      const socket = await session.connect('127.0.0.1', echo.port);
      const lost: string[] = [];
      session.modem.channel.on('lost-final', (command, by) => lost.push(`${command} → ${by}`));
      let error: Error | undefined;
      socket.on('error', (err) => (error = err));
      session.device.emulator!.inject({ kind: 'drop-final', count: 1 });
      socket.write('hello');
      expect((await readBytes(socket, 5)).toString()).toBe('hello');
      socket.write('again');
      expect((await readBytes(socket, 5)).toString()).toBe('again');
      expect(lost).toEqual(['AT+CIPSEND=0,5 → +CIPSEND: 0,5,5']);
      expect(error).toBeUndefined();
      expect(socket.destroyed).toBe(false);
      socket.destroy();
    } finally {
      await session.close();
    }
  }, 20_000);
});
