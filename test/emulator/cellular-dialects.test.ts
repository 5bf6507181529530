import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';
import { Terminal } from './support.js';

// The socket dialects of the families on the 27.007 base, against a real TCP echo server on
// loopback: each family's commands and URCs as its manual shows them (the TinyGSM matrix and the
// families e2e test drive the same dialects through whole drivers).

let emu: EmulatorHandle | undefined;
let echo: EchoServer | undefined;
afterEach(async () => {
  await emu?.close();
  await echo?.close();
  emu = undefined;
  echo = undefined;
});

async function open(profile: string): Promise<Terminal> {
  echo = await startEchoServer();
  emu = startEmulator({ profile, pacing: false, bootMs: 0, registerAfterMs: 0, echo: false, apn: 'internet' });
  const t = new Terminal(emu.link);
  await new Promise((r) => setTimeout(r, 20));
  return t;
}

const anyFinal = /\r\n(OK|ERROR|SHUT OK|CLOSE OK|0, CLOSE OK|\+CME ERROR: [^\r]+)\r\n|\r\n> ?$|\r\n10\.64\.0\.2\r\n/;

describe('sim800: the CIPSTART family', () => {
  it('CSTT → CIICR → CIFSR in order; CIPSTART, quick send, buffered receive, close, shut', async () => {
    const t = await open('sim800');
    expect(await t.command('AT+CIICR', anyFinal)).toMatch(/ERROR/); // IP INITIAL: CSTT first
    await t.command('AT+CIPMUX=1');
    await t.command('AT+CIPQSEND=1');
    await t.command('AT+CIPRXGET=1');
    expect(await t.command('AT+CSTT="internet","",""')).toMatch(/OK/);
    expect(await t.command('AT+CIICR')).toMatch(/OK/);
    // AT+CIFSR has no final result; `;E0` after it gives one (V.25ter concatenation, as TinyGSM sends it).
    expect(await t.command('AT+CIFSR;E0')).toBe('\r\n10.64.0.2\r\n\r\nOK\r\n');
    expect(await t.command('AT+CIPSTATUS')).toMatch(/OK/);
    expect((await t.until(/STATE: [A-Z ]+\r\n/))[0]).toBe('STATE: IP STATUS\r\n');
    await t.command(`AT+CIPSTART=0,"TCP","127.0.0.1",${echo!.port}`);
    await t.until(/0, CONNECT OK\r\n/);
    expect(await t.command('AT+CIPSEND=0,5', anyFinal)).toMatch(/> $/);
    t.clear();
    await t.type('hello');
    await t.until(/DATA ACCEPT:0,5\r\n/);
    await t.until(/\+CIPRXGET: 1,0\r\n/);
    expect(await t.command('AT+CIPRXGET=4,0')).toContain('+CIPRXGET: 4,0,5');
    expect(await t.command('AT+CIPRXGET=2,0,100')).toContain('+CIPRXGET: 2,0,5,0\r\nhello');
    expect(await t.command('AT+CIPCLOSE=0,1', anyFinal)).toContain('0, CLOSE OK');
    expect(await t.command('AT+CIPSHUT', anyFinal)).toContain('SHUT OK');
  });

  it('the network dropping the context is +PDP: DEACT', async () => {
    const t = await open('sim800');
    emu!.inject({ kind: 'network-lost' });
    await t.until(/\+PDP: DEACT\r\n/);
  });
});

describe('quectel: QIOPEN, QISEND, QIRD and their counters', () => {
  it('buffer mode: +QIURC: "recv", QIRD, QISEND=<id>,0 and QIRD=<id>,0 counters, +QIURC: "closed"', async () => {
    const t = await open('quectel');
    expect(await t.command('AT+QICSGP=1,1,"internet","","",1')).toMatch(/OK/);
    expect(await t.command('AT+QIACT=1')).toMatch(/OK/);
    expect(await t.command('AT+QIACT?')).toContain('+QIACT: 1,1,1,"10.64.0.2"');
    await t.command(`AT+QIOPEN=1,0,"TCP","127.0.0.1",${echo!.port},0,0`);
    await t.until(/\+QIOPEN: 0,0\r\n/);
    expect(await t.command('AT+QISEND=0,4', anyFinal)).toMatch(/> $/);
    t.clear();
    await t.type('ping');
    await t.until(/SEND OK\r\n/);
    await t.until(/\+QIURC: "recv",0\r\n/);
    expect(await t.command('AT+QISEND=0,0')).toContain('+QISEND: 4,4,0');
    expect(await t.command('AT+QIRD=0,0')).toContain('+QIRD: 4,0,4');
    expect(await t.command('AT+QIRD=0,1500')).toContain('+QIRD: 4\r\nping\r\n');
    expect(await t.command('AT+QIRD=0,0')).toContain('+QIRD: 4,4,0');
    expect(await t.command('AT+QISTATE=1,0')).toMatch(/\+QISTATE: 0,"TCP","127\.0\.0\.1",\d+,\d+,2,1,0,0,"uart1"/);
    echo!.dropClients();
    await t.until(/\+QIURC: "closed",0\r\n/);
    expect(await t.command('AT+QICLOSE=0')).toMatch(/OK/);
  });

  it('direct push mode: the bytes follow +QIURC: "recv",<id>,<len>', async () => {
    const t = await open('quectel');
    await t.command('AT+QIACT=1');
    await t.command(`AT+QIOPEN=1,2,"TCP","127.0.0.1",${echo!.port},0,1`);
    await t.until(/\+QIOPEN: 2,0\r\n/);
    await t.command('AT+QISEND=2,3', anyFinal);
    t.clear();
    await t.type('abc');
    await t.until(/\+QIURC: "recv",2,3\r\nabc/);
  });
});

describe('sim7080: CNACT and the CA* sockets', () => {
  it('CNACT → +APP PDP: 0,ACTIVE; CAOPEN, CASEND, +CADATAIND, CARECV with the bytes inline; +CASTATE on a peer close', async () => {
    const t = await open('sim7080');
    await t.command('AT+CNCFG=0,1,"internet"');
    expect(await t.command('AT+CNACT=0,1')).toMatch(/OK/);
    await t.until(/\+APP PDP: 0,ACTIVE\r\n/);
    expect(await t.command('AT+CNACT?')).toContain('+CNACT: 0,1,"10.64.0.2"');
    expect(await t.command(`AT+CAOPEN=0,0,"TCP","127.0.0.1",${echo!.port}`)).toContain('+CAOPEN: 0,0\r\n');
    expect(await t.command('AT+CASEND=0,6', anyFinal)).toMatch(/>$/);
    t.clear();
    await t.type('abcdef');
    await t.until(/\+CADATAIND: 0\r\n/);
    expect(await t.command('AT+CARECV?')).toContain('+CARECV: 0,6');
    expect(await t.command('AT+CARECV=0,4')).toContain('+CARECV: 4,abcd\r\n');
    expect(await t.command('AT+CARECV=0,100')).toContain('+CARECV: 2,ef\r\n');
    expect(await t.command('AT+CARECV=0,100')).toContain('+CARECV: 0\r\n');
    expect(await t.command('AT+CASTATE?')).toContain('+CASTATE: 0,1');
    echo!.dropClients();
    await t.until(/\+CASTATE: 0,0\r\n/);
  });
});

describe('a76xx: the SIM7600 set with CIPACK', () => {
  it('PDP via CGACT, NETOPEN, CIPOPEN, CIPSEND, CIPACK counters, CIPCLOSE without CLOSED', async () => {
    const t = await open('a76xx');
    expect(await t.command('AT+CGACT=1,1')).toMatch(/OK/);
    expect(await t.command('AT+CGPADDR=1')).toContain('+CGPADDR: 1,10.64.0.2');
    await t.command('AT+NETOPEN');
    await t.until(/\+NETOPEN: 0\r\n/);
    await t.command(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo!.port}`);
    await t.until(/\+CIPOPEN: 0,0\r\n/);
    await t.command('AT+CIPSEND=0,3', anyFinal);
    t.clear();
    await t.type('xyz');
    await t.until(/\+CIPSEND: 0,3,3\r\n/);
    await t.until(/RECV FROM:127\.0\.0\.1:\d+\r\n\+IPD3\r\nxyz/);
    expect(await t.command('AT+CIPACK=0')).toContain('+CIPACK: 3,3,3');
    const closed = await t.command('AT+CIPCLOSE=0');
    await t.until(/\+CIPCLOSE: 0,0\r\n/);
    expect(closed + t.heard).not.toContain('CLOSED');
  });
});
