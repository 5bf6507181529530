import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmulatorUrl } from '../../src/emulator/index.js';
import { openDevice, type OpenedDevice } from '../../src/transport/open-device.js';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';
import { linesOf, Terminal } from './support.js';

// Issue 14 item 2 for the Wi-Fi families, command by command, through a real pty
// (`atbridge emulate --pty`). Sources: esp-at docs/en/AT_Command_Set at v2.2.0.0_esp32 (DOC22,
// the version esp-at reports), at later tags for what came or went; the ESP8266 AT Instruction
// Set and field logs for NonOS AT 1.x (esp8266-at1).
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const FINAL = /\r\n(OK|ERROR|FAIL|SEND OK|SEND FAIL|busy s\.\.\.)\r\n/;

let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

interface Emu {
  term: Terminal;
  ask(command: string, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}

async function emulate(profile: string, args: string[] = []): Promise<Emu> {
  const dir = mkdtempSync(join(tmpdir(), 'atb-esp-'));
  const pty = join(dir, 'ttyV0');
  const child: ChildProcess = spawn(process.execPath, [CLI, 'emulate', '--profile', profile, '--pty', pty, '--boot', '0', '--no-pacing', '--rtt', '0', '--dns', 'broker.example=127.0.0.1', ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line')), 10_000);
    child.stdout!.on('data', () => /^ready /.test(stdout) && (clearTimeout(timer), resolve()));
  });
  const device: OpenedDevice = await openDevice(pty, { baud: 115200 });
  const term = new Terminal(device.link);
  await term.command('ATE0');
  return {
    term,
    ask: async (command, timeoutMs = 5000) => linesOf(await term.command(command, FINAL, timeoutMs)),
    async stop() {
      await device.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('the emulated DNS', () => {
  it('dns=NAME=IP in an emu: address (repeatable); a bad entry is one line', () => {
    expect(parseEmulatorUrl('emu:esp-at?dns=broker.example=127.0.0.1&dns=Other.Example=127.0.0.2').dns).toEqual({ 'broker.example': '127.0.0.1', 'other.example': '127.0.0.2' });
    expect(() => parseEmulatorUrl('emu:esp-at?dns=broker.example')).toThrow('emulator option dns="broker.example" is not valid; expected NAME=IPV4, e.g. broker.example=127.0.0.1');
  });
});

describe('esp-at (ESP-AT 2.2.0.0)', () => {
  let emu: Emu;
  beforeAll(async () => {
    emu = await emulate('esp-at');
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('before a join: CWSTATE 0, CIPSTATUS 5, CIPSTA zeros, CIPDOMAIN and PING refused', async () => {
    expect(await emu.ask('AT+CWSTATE?')).toEqual(['+CWSTATE:0,""', 'OK']);
    expect(await emu.ask('AT+CIPSTATUS')).toEqual(['STATUS:5', 'OK']);
    expect(await emu.ask('AT+CIPSTA?')).toEqual(['+CIPSTA:ip:"0.0.0.0"', '+CIPSTA:gateway:"0.0.0.0"', '+CIPSTA:netmask:"0.0.0.0"', 'OK']);
    expect(await emu.ask('AT+CIPDOMAIN="broker.example"')).toEqual(['ERROR']);
    expect(await emu.ask('AT+PING="127.0.0.1"', 5000)).toEqual(['+PING:TIMEOUT', 'ERROR']);
  });

  it('a refused join: +CWJAP:2 then ERROR; CWSTATE 4 with the SSID tried', async () => {
    expect(await emu.ask('AT+CWJAP="atbridge-lab","wrong"')).toEqual(['+CWJAP:2', 'ERROR']);
    expect(await emu.ask('AT+CWSTATE?')).toEqual(['+CWSTATE:4,"atbridge-lab"', 'OK']);
  });

  it('the _CUR/_DEF forms are not ESP-AT commands: ERROR', async () => {
    for (const c of ['AT+CWMODE_CUR=1', 'AT+CWJAP_CUR="atbridge-lab","correct horse"', 'AT+CIPSTA_CUR?']) expect(await emu.ask(c)).toEqual(['ERROR']);
  });

  it('joined: CWSTATE 2, CIPSTA ip/gateway/netmask (the address CIFSR gives), CIPDOMAIN, PING', async () => {
    expect(await emu.ask('AT+CWJAP="atbridge-lab","correct horse"')).toEqual(['WIFI CONNECTED', 'WIFI GOT IP', 'OK']);
    expect(await emu.ask('AT+CWSTATE?')).toEqual(['+CWSTATE:2,"atbridge-lab"', 'OK']);
    expect(await emu.ask('AT+CIPSTA?')).toEqual(['+CIPSTA:ip:"192.168.4.23"', '+CIPSTA:gateway:"192.168.4.1"', '+CIPSTA:netmask:"255.255.255.0"', 'OK']);
    expect(await emu.ask('AT+CIFSR')).toContain('+CIFSR:STAIP,"192.168.4.23"');
    expect(await emu.ask('AT+CIPDOMAIN="broker.example"')).toEqual(['+CIPDOMAIN:"127.0.0.1"', 'OK']);
    expect(await emu.ask('AT+CIPDOMAIN="localhost",2')).toEqual(['+CIPDOMAIN:"127.0.0.1"', 'OK']);
    expect(await emu.ask('AT+CIPDOMAIN="nowhere.example"')).toEqual(['ERROR']);
    expect(await emu.ask('AT+PING="broker.example"')).toEqual(['+PING:1', 'OK']);
    // Only loopback (and --allow hosts) is reachable from the emulator.
    expect(await emu.ask('AT+PING="192.0.2.1"', 5000)).toEqual(['+PING:TIMEOUT', 'ERROR']);
  });

  it('CIPSTATUS 2 → 3 with the link → 4 once it is closed; CIPSTATE is not in 2.2', async () => {
    expect(await emu.ask('AT+CIPSTATUS')).toEqual(['STATUS:2', 'OK']);
    expect(await emu.ask(`AT+CIPSTART="TCP","broker.example",${echo.port}`)).toEqual(['CONNECT', 'OK']);
    expect(await emu.ask('AT+CIPSTATUS')).toEqual(['STATUS:3', `+CIPSTATUS:0,"TCP","127.0.0.1",${echo.port},40000,0`, 'OK']);
    expect(await emu.ask('AT+CIPSTATE?')).toEqual(['ERROR']);
    expect(await emu.ask('AT+CIPCLOSE')).toEqual(['CLOSED', 'OK']);
    expect(await emu.ask('AT+CIPSTATUS')).toEqual(['STATUS:4', 'OK']);
  });

  it('SNTP: 1970 from boot until configured and synchronised, then the time in the zone set', async () => {
    expect(await emu.ask('AT+CIPSNTPCFG?')).toEqual(['+CIPSNTPCFG:0,0', 'OK']);
    expect((await emu.ask('AT+CIPSNTPTIME?'))[0]).toMatch(/^\+CIPSNTPTIME:Thu Jan {2}1 00:\d\d:\d\d 1970$/);
    // A zone is whole hours -12..14 or [+|-]hhmm (DOC22): 1560 has 60 minutes.
    expect(await emu.ask('AT+CIPSNTPCFG=1,1560')).toEqual(['ERROR']);
    expect(await emu.ask('AT+CIPSNTPCFG=1,800,"cn.ntp.org.cn","ntp.sjtu.edu.cn"')).toEqual(['OK']);
    expect(await emu.ask('AT+CIPSNTPCFG?')).toEqual(['+CIPSNTPCFG:1,800,"cn.ntp.org.cn","ntp.sjtu.edu.cn"', 'OK']);
    await new Promise((r) => setTimeout(r, 1200));
    const [line] = await emu.ask('AT+CIPSNTPTIME?');
    const m = /^\+CIPSNTPTIME:\w{3} \w{3} [ \d]\d (\d\d):\d\d:\d\d (\d{4})$/.exec(line ?? '');
    expect(m, line).not.toBeNull();
    const china = new Date(Date.now() + 8 * 3600_000);
    expect(Number(m![2])).toBe(china.getUTCFullYear());
    expect([china.getUTCHours(), (china.getUTCHours() + 23) % 24]).toContain(Number(m![1]));
  });
});

describe('esp-at: what the reported version has', () => {
  it.each([
    ['2.1.0.0', { 'AT+CWSTATE?': false, 'AT+CIPSTATE?': false, 'AT+CIPSTATUS': true }],
    ['2.4.0.0', { 'AT+CWSTATE?': true, 'AT+CIPSTATE?': true, 'AT+CIPSTATUS': true }],
    ['4.1.0.0', { 'AT+CWSTATE?': true, 'AT+CIPSTATE?': true, 'AT+CIPSTATUS': false }],
  ] as const)('--firmware %s', async (firmware, has) => {
    const emu = await emulate('esp-at', ['--firmware', firmware]);
    try {
      for (const [command, present] of Object.entries(has)) {
        const answer = await emu.ask(command);
        if (present) expect(answer.at(-1), command).toBe('OK');
        else expect(answer, command).toEqual(['ERROR']);
      }
    } finally {
      await emu.stop();
    }
  });
});

describe('esp8266-at1 (ESP8266 NonOS AT 1.2.0.0)', () => {
  let emu: Emu;
  beforeAll(async () => {
    emu = await emulate('esp8266-at1', ['--rtt', '100']);
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('AT+GMR is the stock ESP-01 firmware', async () => {
    expect(await emu.ask('AT+GMR')).toEqual(['AT version:1.2.0.0(Jul  1 2016 20:04:45)', 'SDK version:1.5.4.1(39cb9a32)', 'Ai-Thinker Technology Co. Ltd.', 'Dec  2 2016 14:21:16', 'OK']);
  });

  it('a refused join ends +CWJAP:<reason> (+CWJAP_CUR: for the _CUR form) then FAIL', async () => {
    expect(await emu.ask('AT+CWJAP_CUR="atbridge-lab","wrong"')).toEqual(['+CWJAP_CUR:2', 'FAIL']);
    expect(await emu.ask('AT+CWJAP="nobody-here","x"')).toEqual(['+CWJAP:3', 'FAIL']);
  });

  it('the _CUR/_DEF forms work and answer under their own names; 2.x-only commands are ERROR', async () => {
    expect(await emu.ask('AT+CWMODE_CUR=1')).toEqual(['OK']);
    expect(await emu.ask('AT+CWMODE_DEF?')).toEqual(['+CWMODE_DEF:1', 'OK']);
    expect(await emu.ask('AT+CWJAP_DEF="atbridge-lab","correct horse"')).toEqual(['WIFI CONNECTED', 'WIFI GOT IP', 'OK']);
    expect(await emu.ask('AT+CWJAP_CUR?')).toEqual(['+CWJAP_CUR:"atbridge-lab","a4:cf:12:00:00:01",6,-52', 'OK']);
    expect(await emu.ask('AT+CWJAP?')).toEqual(['+CWJAP:"atbridge-lab","a4:cf:12:00:00:01",6,-52', 'OK']);
    expect(await emu.ask('AT+CIPSTA_CUR?')).toEqual(['+CIPSTA_CUR:ip:"192.168.4.23"', '+CIPSTA_CUR:gateway:"192.168.4.1"', '+CIPSTA_CUR:netmask:"255.255.255.0"', 'OK']);
    for (const c of ['AT+CWSTATE?', 'AT+CIPSTATE?', 'AT+CIPRECVMODE=1', 'AT+SYSSTORE=0']) expect(await emu.ask(c), c).toEqual(['ERROR']);
  });

  it('CIPDOMAIN unquoted or DNS Fail; SNTP clock with a zero-padded day', async () => {
    expect(await emu.ask('AT+CIPDOMAIN="broker.example"')).toEqual(['+CIPDOMAIN:127.0.0.1', 'OK']);
    expect(await emu.ask('AT+CIPDOMAIN="nowhere.example"')).toEqual(['DNS Fail', 'ERROR']);
    expect((await emu.ask('AT+CIPSNTPTIME?'))[0]).toMatch(/^\+CIPSNTPTIME:Thu Jan 01 00:\d\d:\d\d 1970$/);
  });

  it('sends of at most 2048 bytes; a line typed before SEND OK gets busy s...; data arrives as +IPD after SEND OK', async () => {
    expect(await emu.ask(`AT+CIPSTART="TCP","127.0.0.1",${echo.port}`)).toEqual(['CONNECT', 'OK']);
    expect(await emu.ask('AT+CIPSEND=2049')).toEqual(['ERROR']);
    emu.term.clear();
    await emu.term.type('AT+CIPSEND=2048\r');
    await emu.term.until(/>/);
    // The data and, right behind it, a command line: with --rtt 100 SEND OK waits for the ack, so the module is still sending.
    await emu.term.type(Buffer.concat([Buffer.alloc(2048, 0x61), Buffer.from('AT\r')]));
    await emu.term.until(/SEND OK\r\n/, 10_000);
    await emu.term.until(/\+IPD,2048:a{2048}/, 10_000);
    const heard = emu.term.heard;
    expect(heard).toContain('busy s...');
    expect(heard.indexOf('SEND OK')).toBeLessThan(heard.indexOf('+IPD,'));
    expect(await emu.ask('AT+CIPSTATUS')).toEqual(['STATUS:3', `+CIPSTATUS:0,"TCP","127.0.0.1",${echo.port},40000,0`, 'OK']);
  });
});
