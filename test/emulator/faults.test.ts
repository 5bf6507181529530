import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEmulatorUrl, parseFault } from '../../src/emulator/index.js';
import { AtbridgeError } from '../../src/errors.js';
import { openDevice } from '../../src/transport/open-device.js';
import { useEchoServer } from '../helpers/echo-fixture.js';
import { eventually } from '../helpers/echo-server.js';
import { closeAll, emulator, linesOf, sleep, Terminal } from './support.js';

// Every fault the emulator can inject, each seen from the host's side of the line.
const echo = useEchoServer();
afterEach(closeAll);

/** A SIM7600 with an open socket (command mode, push receive) to the echo server. */
async function simWithSocket() {
  const { emu, term } = await emulator('sim7600');
  await term.command('ATE0');
  await term.command('AT+NETOPEN');
  await term.until(/\+NETOPEN: 0\r\n/);
  await term.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo().port}`);
  await term.until(/\+CIPOPEN: 0,0\r\n/);
  term.clear();
  return { emu, term };
}

/** An ESP-AT module joined to its AP with an open socket to the echo server. */
async function espWithSocket(extra = '') {
  const { emu, term } = await emulator('esp-at');
  await term.command('ATE0');
  await term.command('AT+CWJAP="atbridge-lab","correct horse"');
  if (extra) await term.command(extra);
  expect(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`, /\r\n(OK|ERROR)\r\n/)).toBe('\r\nCONNECT\r\n\r\nOK\r\n');
  term.clear();
  return { emu, term };
}

describe('reboot', () => {
  it.each([
    ['sim7600', simWithSocket, '\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n'],
    ['esp-at', () => espWithSocket(), '\r\nready\r\n'],
  ] as const)('%s: prints its banner again, drops the socket and forgets its settings', async (_name, setup, banner) => {
    const { emu, term } = await setup();
    const before = echo().connections;
    expect(emu.module.socket).toBeDefined();
    emu.inject({ kind: 'reboot' });
    await term.until(new RegExp(banner.replace(/[+]/g, '\\+')));
    expect(term.take()).toBe(banner);
    expect(emu.module.socket).toBeUndefined();
    // Echo is back on after a reboot (it was off before).
    expect(await term.command('AT')).toBe('AT\r\r\nOK\r\n');
    expect(echo().connections).toBe(before);
  });
});

describe('peer closes the socket', () => {
  it('sim7600: +IPCLOSE: 0,1 (closed by the remote side); the link is free again', async () => {
    const { emu, term } = await simWithSocket();
    emu.inject({ kind: 'peer-close' });
    await term.until(/\+IPCLOSE: 0,1\r\n/);
    expect(await term.command('AT+CIPCLOSE?')).toContain('+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0');
  });

  it('esp-at: CLOSED; a send afterwards is refused', async () => {
    const { emu, term } = await espWithSocket();
    emu.inject({ kind: 'peer-close' });
    await term.until(/\r\nCLOSED\r\n/);
    expect(linesOf(await term.command('AT+CIPSEND=4'))).toEqual(['link is not valid', 'ERROR']);
  });

  it('a real close by the TCP server is reported the same way', async () => {
    const { term } = await simWithSocket();
    echo().dropClients();
    await term.until(/\+IPCLOSE: 0,1\r\n/);
  });

  // A broker that hangs up as soon as the host's last bytes (MQTT DISCONNECT) arrive. The line is
  // paced slowly, so the close reaches the module while the send's OK is still on the wire: the
  // confirmation must still come first, or the host stops at the close and leaves it unread.
  async function hangUpServer(): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      async close() {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
      },
    };
  }

  it('sim7600: the peer closing right after a send comes after that send\'s +CIPSEND: 0,n,n', async () => {
    const server = await hangUpServer();
    try {
      const { term } = await emulator('sim7600', { pacing: true, baud: 9600, echo: false });
      await term.command('AT+NETOPEN');
      await term.until(/\+NETOPEN: 0\r\n/);
      await term.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${server.port}`);
      await term.until(/\+CIPOPEN: 0,0\r\n/);
      term.clear();
      await term.type('AT+CIPSEND=0,2\r');
      await term.until(/\r\n>/);
      await term.type(Buffer.from([0xe0, 0x00]));
      await term.until(/\+IPCLOSE: 0,1\r\n/);
      await sleep(50);
      expect(linesOf(term.heard)).toEqual(['>', 'OK', '+CIPSEND: 0,2,2', '+IPCLOSE: 0,1']);
    } finally {
      await server.close();
    }
  });

  it('esp-at: the peer closing right after a send comes after that send\'s SEND OK', async () => {
    const server = await hangUpServer();
    try {
      const { term } = await emulator('esp-at', { pacing: true, baud: 9600, echo: false });
      await term.command('AT+CWJAP="atbridge-lab","correct horse"');
      expect(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${server.port}`, /\r\n(OK|ERROR)\r\n/)).toBe('\r\nCONNECT\r\n\r\nOK\r\n');
      term.clear();
      await term.type('AT+CIPSEND=2\r\n');
      await term.until(/\r\n>/);
      await term.type(Buffer.from([0xe0, 0x00]));
      await term.until(/\r\nCLOSED\r\n/);
      await sleep(50);
      expect(linesOf(term.heard)).toEqual(['OK', '>', 'Recv 2 bytes', 'SEND OK', 'CLOSED']);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['sim7600', simWithSocket, 'AT+CIPSEND=0,4', ['>', 'OK', '+CIPSEND: 0,4,-1', '+IPCLOSE: 0,1']],
    ['esp-at', () => espWithSocket(), 'AT+CIPSEND=4', ['OK', '>', 'Recv 4 bytes', 'SEND FAIL', 'CLOSED']],
  ] as const)('%s: a close during the > prompt is reported after the send\'s (failed) answer', async (_name, setup, command, expected) => {
    const { emu, term } = await setup();
    await term.type(`${command}\r\n`);
    await term.until(/\r\n>/);
    emu.inject({ kind: 'peer-close' });
    await sleep(50);
    await term.type('ping');
    await term.until(new RegExp(`${expected[expected.length - 1]!.replace(/[+]/g, '\\+')}\r\n`));
    await sleep(50);
    expect(linesOf(term.heard)).toEqual(expected);
  });
});

describe('network lost', () => {
  it('sim7600: +CIPEVENT: NETWORK CLOSED UNEXPECTEDLY, then every send gives +CIPERROR: 4', async () => {
    const { emu, term } = await simWithSocket();
    emu.inject({ kind: 'network-lost' });
    await term.until(/\+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n/);
    expect(linesOf(await term.command('AT+CIPSEND=0,5'))).toEqual(['+CIPERROR: 4', 'ERROR']);
    expect(linesOf(await term.command('AT+NETOPEN?'))).toEqual(['+NETOPEN: 0', 'OK']);
  });

  it('esp-at: WIFI DISCONNECT and CLOSED; the module has no AP until it joins again', async () => {
    const { emu, term } = await espWithSocket();
    emu.inject({ kind: 'network-lost' });
    await term.until(/WIFI DISCONNECT\r\n\r\nCLOSED\r\n/);
    expect(linesOf(await term.command('AT+CWJAP?'))).toEqual(['No AP', 'OK']);
    expect(linesOf(await term.command('AT+CIPSTATUS'))).toEqual(['STATUS:5', 'OK']);
  });
});

describe('registration lost', () => {
  it('sim7600: reads "searching" (and says so unsolicited with AT+CREG=1), then registers again', async () => {
    const { emu, term } = await emulator('sim7600', { echo: false });
    await term.command('AT+CREG=1');
    await term.command('AT+CEREG=2');
    emu.inject({ kind: 'registration-lost', ms: 150 });
    await term.until(/\+CREG: 2\r\n/);
    await term.until(/\+CEREG: 2\r\n/);
    expect(linesOf(await term.command('AT+CGREG?'))).toEqual(['+CGREG: 0,2', 'OK']);
    await term.until(/\+CREG: 1\r\n/);
    await term.until(/\+CEREG: 1,"[0-9A-F]+","[0-9A-F]+"\r\n/);
    expect(linesOf(await term.command('AT+CREG?'))).toEqual(['+CREG: 1,1', 'OK']);
  });

  it('esp-at: the Wi-Fi link drops (WIFI DISCONNECT)', async () => {
    const { emu, term } = await emulator('esp-at', { echo: false });
    await term.command('AT+CWJAP="atbridge-lab","correct horse"');
    emu.inject({ kind: 'registration-lost' });
    await term.until(/WIFI DISCONNECT\r\n/);
  });
});

describe('busy', () => {
  it('sim7600 has no busy word: it answers once the busy time is over', async () => {
    const { emu, term } = await emulator('sim7600', { echo: false });
    emu.inject({ kind: 'busy', ms: 300 });
    await term.type('AT\r');
    await sleep(100);
    expect(term.heard).toBe('');
    await term.until(/\r\nOK\r\n/);
  });

  it('esp-at answers busy p... to each line while a command still runs (a join here)', async () => {
    const { term } = await emulator('esp-at', { echo: false, joinMs: 300 });
    await term.type('AT+CWJAP="atbridge-lab","correct horse"\r\n');
    await sleep(50);
    await term.type('AT\r\n');
    await term.until(/busy p\.\.\.\r\n/);
    await term.until(/WIFI GOT IP\r\n\r\nOK\r\n/);
    expect(term.heard.match(/\r\nOK\r\n/g)).toHaveLength(1);
  });
});

describe('stuck in transparent mode from power-on', () => {
  it.each(['sim7600', 'esp-at'] as const)('%s: swallows AT as data until a +++ framed by silence', async (profile) => {
    const { emu, term } = await emulator(profile, { faults: [{ kind: 'stuck-transparent' }] });
    expect(emu.module.inTransparentMode).toBe(true);
    await term.type('AT\r');
    await sleep(100);
    expect(term.heard).toBe('');
    const { guardBeforeMs, guardAfterMs } = emu.module.profile.data.escape;
    await sleep(guardBeforeMs + 50);
    await term.type('+++');
    await sleep(guardAfterMs + 50);
    await eventually(() => !emu.module.inTransparentMode, 3000, 'command mode');
    // SIM7600 answers the escape with OK; ESP-AT says nothing (REFERENCE A.4, B.5).
    expect(term.take()).toBe(profile === 'sim7600' ? '\r\nOK\r\n' : '');
    expect(await term.command('AT')).toBe('AT\r\r\nOK\r\n');
  }, 15_000);
});

describe('faults from an emu: address', () => {
  it('fault=silent, fault=busy:ms and several at once are parsed and applied', async () => {
    const options = parseEmulatorUrl('emu:esp-at?pacing=0&fault=busy:200&fault=drop-final:2&fault=corrupt:0.5&fault=wrong-baud:9600&fault=registration-lost@1s');
    expect(options.faults).toEqual([
      { kind: 'busy', ms: 200 },
      { kind: 'drop-final', count: 2 },
      { kind: 'corrupt', rate: 0.5 },
      { kind: 'wrong-baud', baud: 9600 },
    ]);
    // registration-lost means something only once registered: on a schedule (live-faults.test.ts).
    expect(options.schedule).toMatchObject([{ fault: { kind: 'registration-lost' }, atMs: 1000 }]);
    const device = await openDevice('emu:sim7600?pacing=0&fault=silent', { baud: 115200 });
    try {
      const term = new Terminal(device.link);
      await term.type('AT\r');
      await sleep(200);
      expect(term.heard).toBe('');
      expect(device.emulator?.module.silent).toBe(true);
    } finally {
      await device.close();
    }
  });

  it('wrong-baud from power-on: the banner itself is garbage at the host rate', async () => {
    const device = await openDevice('emu:sim7600?pacing=0&fault=wrong-baud:9600', { baud: 115200 });
    try {
      const term = new Terminal(device.link);
      await term.until(/[\s\S]{3}/);
      await sleep(50);
      expect(term.heard).not.toContain('RDY');
    } finally {
      await device.close();
    }
  });

  it.each(['nonsense', 'busy', 'busy:x', 'corrupt:2', 'wrong-baud:10', 'delay-final:-1'])('"%s" is a one-line usage error', (text) => {
    const err = (() => {
      try {
        parseFault(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AtbridgeError);
    expect((err as AtbridgeError).message.split('\n')).toHaveLength(1);
  });
});
