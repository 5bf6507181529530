import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront } from '../../src/emulator/fronts.js';
import { openModemSession } from '../../src/modem/session.js';
import { readBytes } from '../helpers/echo-server.js';

/**
 * The probe's SIM7000 stall, on real parts (socat pty + serialport ⇄ emulated module ⇄ real TCP):
 * a buffered read's OK is held back (the emulator's delay-final fault) while the peer sends more,
 * so the module's data notice lands between the read's data and its OK. The driver must read again.
 * (If a loaded machine is so slow that the second piece arrives before the read, the first read
 * simply takes both: the test cannot fail falsely.) Quectel, SIM7080 (CARECV) and ESP-AT notices have their
 * own prefix: test/at/data-notice.test.ts covers every family's notice in the parser.
 */
const FAMILIES = ['sim7600', 'sim800', 'sim7000'] as const;

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function listen(): Promise<{ port: number; peer: Promise<Socket> }> {
  return new Promise((resolve) => {
    let gotPeer!: (s: Socket) => void;
    const peer = new Promise<Socket>((r) => (gotPeer = r));
    server = createServer((s) => gotPeer(s));
    server.listen(0, '127.0.0.1', () => {
      const addr = server!.address();
      resolve({ port: typeof addr === 'object' && addr ? addr.port : 0, peer });
    });
  });
}

describe('a data notice between a buffered read\'s data and its OK', () => {
  for (const family of FAMILIES) {
    it(`${family}: the driver reads again and gets the rest`, async () => {
      const { port, peer } = await listen();
      const path = join(mkdtempSync(join(tmpdir(), 'atb-notice-')), 'ttyV0');
      const front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile: family, pacing: false, registerAfterMs: 0 });
      try {
        const s = await openModemSession({ device: front.address, profile: 'auto', baud: 115200, transparent: false, recvMode: 'buffered', apn: 'internet' });
        try {
          const socket = await s.connect('127.0.0.1', port);
          const remote = await peer;
          const back = readBytes(socket, 'first+second'.length, 15_000);
          // The next final (the read of "first") waits 2 s; "second" arrives meanwhile, its notice before that OK.
          front.module.inject({ kind: 'delay-final', ms: 2000 });
          remote.write('first');
          setTimeout(() => remote.write('+second'), 400);
          expect((await back).toString()).toBe('first+second');
          socket.destroy();
          remote.destroy();
        } finally {
          await s.close();
        }
      } finally {
        await front.close();
      }
    }, 60_000);
  }
});
