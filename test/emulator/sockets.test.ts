import { afterEach, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import type { BlockFrame } from '../../src/at/channel.js';
import { getProfile } from '../../src/profile/index.js';
import { useEchoServer } from '../helpers/echo-fixture.js';
import { eventually } from '../helpers/echo-server.js';
import { closeAll, emulator, linesOf } from './support.js';

// The module's sockets: real TCP behind them, pushed and buffered receive in each family's words.
const echo = useEchoServer();
afterEach(closeAll);

const OK_OR_ERROR = /\r\n(OK|ERROR)\r\n/;

describe('SIM7600', () => {
  async function open(rxget: 0 | 1) {
    const { emu, term } = await emulator('sim7600');
    await term.command('ATE0');
    await term.command(`AT+CIPRXGET=${rxget}`);
    await term.command('AT+NETOPEN');
    await term.until(/\+NETOPEN: 0\r\n/);
    await term.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo().port}`);
    await term.until(/\+CIPOPEN: 0,0\r\n/);
    return { emu, term };
  }

  it('push receive: RECV FROM:<ip>:<port>, +IPD<len>, then the bytes (MAN §11.2.6); the host framer reads it as a block', async () => {
    const { emu, term } = await open(0);
    const channel = new AtChannel(emu.link, getProfile('sim7600'));
    const blocks: Buffer[] = [];
    channel.on('block', (b: BlockFrame) => blocks.push(b.data));
    try {
      term.clear();
      await term.type('AT+CIPSEND=0,5\r');
      await term.until(/\r\n>/);
      await term.type('HELLO');
      await term.until(/\+CIPSEND: 0,5,5\r\n/);
      await term.until(/HELLO$/);
      expect(term.heard).toMatch(new RegExp(`\\r\\nRECV FROM:127\\.0\\.0\\.1:${echo().port}\\r\\n\\+IPD5\\r\\nHELLO$`));
      await eventually(() => Buffer.concat(blocks).toString() === 'HELLO', 2000, 'the block');
    } finally {
      channel.detach();
    }
  });

  it('buffered receive: one +CIPRXGET: 1,0 notice, reads with the rest count, No data when empty', async () => {
    const { term } = await open(1);
    term.clear();
    await term.type('AT+CIPSEND=0,10\r');
    await term.until(/\r\n>/);
    await term.type('0123456789');
    await term.until(/\+CIPRXGET: 1,0\r\n/);
    await eventually(async () => (await term.command('AT+CIPRXGET=4,0')).includes('+CIPRXGET: 4,0,10'), 2000, 'ten bytes buffered');
    expect(await term.command('AT+CIPRXGET=2,0,4')).toBe('\r\n+CIPRXGET: 2,0,4,6\r\n0123\r\nOK\r\n');
    expect(await term.command('AT+CIPRXGET=3,0,2')).toBe('\r\n+CIPRXGET: 3,0,2,4\r\n3435\r\nOK\r\n');
    expect(await term.command('AT+CIPRXGET=2,0')).toBe('\r\n+CIPRXGET: 2,0,4,0\r\n6789\r\nOK\r\n');
    expect(linesOf(await term.command('AT+CIPRXGET=2,0'))).toEqual(['+IP ERROR: No data', 'ERROR']);
    expect(term.heard.match(/\+CIPRXGET: 1,0/g) ?? []).toHaveLength(0);
  });

  it('answers as the manual says when things are out of order', async () => {
    const { term } = await emulator('sim7600');
    await term.command('ATE0');
    expect(linesOf(await term.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo().port}`))).toEqual(['+CIPOPEN: 0,2', 'ERROR']);
    expect(linesOf(await term.command('AT+CIPCLOSE=0'))).toEqual(['+CIPCLOSE: 0,4', 'ERROR']);
    expect(linesOf(await term.command('AT+NETCLOSE'))).toEqual(['+NETCLOSE: 2', 'ERROR']);
    await term.command('AT+NETOPEN');
    await term.until(/\+NETOPEN: 0\r\n/);
    expect(linesOf(await term.command('AT+NETOPEN'))).toEqual(['+IP ERROR: Network is already opened', 'ERROR']);
    expect(linesOf(await term.command('AT+CIPMODE=1'))).toEqual(['ERROR']);
    expect(linesOf(await term.command('AT+CIPOPEN=0,"TCP","10.255.255.1",80'))).toEqual(['OK']);
    // Not loopback and not allowed: the emulator refuses without touching the network.
    await term.until(/\+CIPOPEN: 0,4\r\n/);
    await term.command('AT+CIPOPEN=0,"TCP","127.0.0.1",1');
    await term.until(/\+CIPOPEN: 0,1\r\n/);
    expect(linesOf(await term.command('AT+CGDCONT=1,"IP","lab.apn"'))).toEqual(['OK']);
    expect(linesOf(await term.command('AT+CGDCONT?'))).toEqual(['+CGDCONT: 1,"IP","lab.apn","0.0.0.0",0,0,0,0', 'OK']);
    expect(linesOf(await term.command('AT+NOSUCH'))).toEqual(['ERROR']);
  });
});

describe('ESP-AT', () => {
  async function joined() {
    const { emu, term } = await emulator('esp-at');
    await term.command('ATE0');
    await term.command('AT+CWJAP="atbridge-lab","correct horse"');
    return { emu, term };
  }

  it('active receive: +IPD,<len>:<data>; send is OK, >, Recv N bytes, SEND OK', async () => {
    const { term } = await joined();
    await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`, OK_OR_ERROR);
    term.clear();
    await term.type('AT+CIPSEND=4\r\n');
    await term.until(/\r\nOK\r\n\r\n>/);
    await term.type('ping');
    await term.until(/\+IPD,4:ping$/);
    expect(term.heard).toBe('\r\nOK\r\n\r\n>\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,4:ping');
    expect(linesOf(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`))).toEqual(['ALREADY CONNECTED', 'ERROR']);
    expect(linesOf(await term.command('AT+CIPCLOSE'))).toEqual(['CLOSED', 'OK']);
  });

  it('passive receive: one +IPD,<len> notice, CIPRECVLEN?, CIPRECVDATA, and CLOSED held back until the data is read', async () => {
    const { term } = await joined();
    await term.command('AT+CIPRECVMODE=1');
    await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`, OK_OR_ERROR);
    await term.type('AT+CIPSEND=6\r\n');
    await term.until(/>/);
    await term.type('abcdef');
    await term.until(/\+IPD,6\r\n/);
    expect(linesOf(await term.command('AT+CIPRECVLEN?'))).toEqual(['+CIPRECVLEN:6,-1,-1,-1,-1', 'OK']);
    echo().dropClients();
    await new Promise((r) => setTimeout(r, 100));
    expect(term.heard).not.toContain('CLOSED');
    expect(await term.command('AT+CIPRECVDATA=4')).toBe('\r\n+CIPRECVDATA:4,abcd\r\nOK\r\n');
    expect(await term.command('AT+CIPRECVDATA=4')).toBe('\r\n+CIPRECVDATA:2,ef\r\nOK\r\n');
    await term.until(/\r\nCLOSED\r\n/);
    expect(linesOf(await term.command('AT+CIPRECVDATA=4'))).toEqual(['ERROR']);
  });

  it('multi-connection mode: link ids on CONNECT, +IPD, SEND and CLOSED; the single-link syntax is refused', async () => {
    const { term } = await joined();
    await term.command('AT+CIPMUX=1');
    expect(linesOf(await term.command(`AT+CIPSTART="TCP","127.0.0.1",${echo().port}`))).toEqual(['ERROR']);
    expect(linesOf(await term.command(`AT+CIPSTART=3,"TCP","127.0.0.1",${echo().port}`, OK_OR_ERROR))).toEqual(['3,CONNECT', 'OK']);
    term.clear();
    await term.type('AT+CIPSEND=3,2\r\n');
    await term.until(/>/);
    await term.type('hi');
    await term.until(/\+IPD,3,2:hi$/);
    expect(linesOf(await term.command('AT+CIPCLOSE=3'))).toEqual(['3,CLOSED', 'OK']);
  });

  it('CWJAP: +CWJAP:1 (AP never answers), 2 (wrong password), 3 (no such AP), 4 (refused), each then ERROR', async () => {
    const { term } = await emulator('esp-at', {
      joinTimeoutMs: 100,
      accessPoints: [
        { ssid: 'lab', password: 'secret' },
        { ssid: 'far', password: 'x', failCode: 1 },
        { ssid: 'picky', password: 'x', failCode: 4 },
      ],
    });
    await term.command('ATE0');
    for (const [ssid, password, code] of [['far', 'x', 1], ['lab', 'nope', 2], ['gone', 'x', 3], ['picky', 'x', 4]] as const) {
      expect(linesOf(await term.command(`AT+CWJAP="${ssid}","${password}"`))).toEqual([`+CWJAP:${code}`, 'ERROR']);
    }
    expect(linesOf(await term.command('AT+CWJAP="lab","secret"'))).toEqual(['WIFI CONNECTED', 'WIFI GOT IP', 'OK']);
    expect(linesOf(await term.command('AT+CWJAP?'))[0]).toMatch(/^\+CWJAP:"lab","[0-9a-f:]+",\d+,-\d+/);
    expect(linesOf(await term.command('AT+CWLAP'))).toEqual([
      '+CWLAP:(3,"lab",-60,"a4:cf:12:00:00:01",6)',
      '+CWLAP:(3,"far",-60,"a4:cf:12:00:00:01",6)',
      '+CWLAP:(3,"picky",-60,"a4:cf:12:00:00:01",6)',
      'OK',
    ]);
    // Joining again leaves the old AP first.
    expect(linesOf(await term.command('AT+CWJAP="lab","secret"'))).toEqual(['WIFI DISCONNECT', 'WIFI CONNECTED', 'WIFI GOT IP', 'OK']);
    expect(linesOf(await term.command('AT+CWQAP'))).toEqual(['OK']);
    await term.until(/WIFI DISCONNECT\r\n/);
  });
});
