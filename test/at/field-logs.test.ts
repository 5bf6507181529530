import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyLine, type ClassifiedLine } from '../../src/at/classify.js';
import type { Frame } from '../../src/at/framer.js';
import { getProfile } from '../../src/profile/index.js';
import { chunkings } from './chunking.js';
import { classifyTranscript, transcriptBytes } from './transcript.js';

/**
 * The captured field logs (fixtures/logs, copied from ../shared/reference/logs; INDEX.md names
 * each source) are the independent check on framer, classifier and profiles.
 */
const DIR = 'fixtures/logs';
const logs = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const profileFor = (file: string) => getProfile(file.startsWith('espat') ? 'esp-at' : 'sim7600');
const KINDS = new Set(['echo', 'command', 'final', 'info', 'urc', 'busy', 'noise']);

describe('every field log', () => {
  it('there are logs of both families to check', () => {
    expect(logs.filter((f) => f.startsWith('espat')).length).toBeGreaterThanOrEqual(20);
    expect(logs.filter((f) => f.startsWith('sim7600')).length).toBeGreaterThanOrEqual(15);
  });

  it.each(logs)('%s: every line framed and classified, as pasted and unwrapped, the same in any chunking', (file) => {
    const profile = profileFor(file);
    for (const unwrap of [false, true]) {
      const bytes = transcriptBytes(join(DIR, file), { unwrap });
      const whole = classifyTranscript(bytes, profile);
      expect(whole.lines.length).toBeGreaterThan(0);
      for (const line of whole.lines) expect(KINDS.has(line.kind)).toBe(true);
      // Nothing is lost: the frames hold every byte that is not a line end or a prompt's space.
      const framed = whole.frames.reduce((n, f) => n + frameBytes(f), 0);
      expect(framed).toBeLessThanOrEqual(bytes.length);
      for (const [name, split] of chunkings(file.length)) {
        expect(classifyTranscript(bytes, profile, split).frames, `${file} ${name}`).toEqual(whole.frames);
      }
    }
  });
});

function frameBytes(f: Frame): number {
  if (f.kind === 'line') return f.raw.length;
  if (f.kind === 'prompt') return 1;
  return f.data.length;
}

function lines(file: string): ClassifiedLine[] {
  return classifyTranscript(transcriptBytes(join(DIR, file)), profileFor(file)).lines;
}
function frames(file: string): Frame[] {
  return classifyTranscript(transcriptBytes(join(DIR, file)), profileFor(file)).frames;
}
const find = (ls: ClassifiedLine[], text: string) => ls.find((l) => l.text.trim() === text);
const urcEvents = (ls: ClassifiedLine[]) => ls.filter((l) => l.kind === 'urc').map((l) => l.urc!.event);
const blocks = (fs: Frame[]) => fs.filter((f): f is Extract<Frame, { kind: 'block' }> => f.kind === 'block');
/** The lines from the one equal to `first`, as `kind:text` pairs, echo included. */
function conversation(ls: ClassifiedLine[], first: string, count: number, which: 'first' | 'last' = 'first'): string[] {
  const at = ls[which === 'first' ? 'findIndex' : 'findLastIndex']((l) => l.text.trim() === first);
  expect(at, `"${first}" is in the log`).toBeGreaterThanOrEqual(0);
  return ls.slice(at, at + count).map((l) => `${l.kind}:${l.text.trim()}`);
}

describe('what a person reading the logs sees', () => {
  it('sim7600_09: NETOPEN, CIPOPEN, CIPSEND and CIPCLOSE results arrive as URCs after OK; +IPD19 carries the reply', () => {
    const ls = lines('sim7600_09_tcp-and-transparent-walkthrough-csdn.txt');
    expect(find(ls, '+NETOPEN: 0')).toMatchObject({ kind: 'urc', urc: { event: 'network-opened', meaning: 'success' } });
    expect(find(ls, '+CIPOPEN: 0,0')).toMatchObject({ kind: 'urc', urc: { event: 'socket-opened' } });
    expect(find(ls, '+CIPSEND: 0,5,5')).toMatchObject({ kind: 'urc', urc: { event: 'send-confirm', groups: { link: '0', req: '5', cnf: '5' } } });
    expect(find(ls, '+CSQ: 31,99')).toMatchObject({ kind: 'info' });
    expect(urcEvents(ls)).toContain('socket-close-done');
    // The blog hand-edited "+IPD19" into "+ IPD19"; the header still announces 19 bytes.
    const [ipd] = blocks(frames('sim7600_09_tcp-and-transparent-walkthrough-csdn.txt'));
    expect(ipd).toMatchObject({ name: '+IPD', purpose: 'push', groups: { len: '19' }, complete: true });
    expect(ipd!.data.toString('latin1')).toBe('HOE-7600CE-TCP-TEST');
  });

  it('sim7600_09: CONNECT 115200 ends a transparent open when the command asks for it, with the rate', () => {
    const profile = getProfile('sim7600');
    const finals = profile.compileResults(profile.command('socketOpenTransparent').finals);
    const asked = classifyLine('CONNECT 115200', profile, { text: 'AT+CIPOPEN=0,"TCP","211.149.158.237",8011', responsePrefix: '+CIPOPEN', finals, echoPending: false });
    expect(asked).toMatchObject({ kind: 'final', final: { outcome: 'connect', groups: { rate: '115200' } } });
  });

  it('espat_11: busy p... while CWJAP runs, then +CWJAP:4 and ERROR', () => {
    const ls = lines('espat_11_busy-p-during-cwjap-and-cipstart.txt');
    expect(ls.filter((l) => l.kind === 'busy' && l.busy === 'processing').length).toBeGreaterThanOrEqual(20);
    const at = ls.findIndex((l) => l.text.trim() === '+CWJAP:4');
    expect(ls[at]!.kind).toBe('info');
    expect(ls[at + 1]).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
    // The same line unsolicited (the join finished after the host gave up) is the join-error URC.
    expect(classifyLine('+CWJAP:4', getProfile('esp-at'), undefined)).toMatchObject({ kind: 'urc', urc: { event: 'wifi-join-error', meaning: 'connection failed' } });
  });

  it('espat_07: AT+RST answered ERROR; during CWJAP: WIFI DISCONNECT, busy p... twice, WIFI CONNECTED, WIFI GOT IP, OK', () => {
    const ls = lines('espat_07_cwjap-busy-p-then-mqtt.txt');
    expect(conversation(ls, 'AT+RST', 3)).toEqual(['echo:AT+RST', 'echo:AT+RST', 'final:ERROR']);
    const join = conversation(ls, 'AT+CWJAP="GAIA_GATEWAY","TSKpassNest20!"', 7);
    expect(join).toEqual([
      'echo:AT+CWJAP="GAIA_GATEWAY","TSKpassNest20!"',
      'urc:WIFI DISCONNECT',
      'busy:busy p...',
      'urc:WIFI CONNECTED',
      'busy:busy p...',
      'urc:WIFI GOT IP',
      'final:OK',
    ]);
    expect(find(ls, '4,CONNECT')).toMatchObject({ kind: 'urc', urc: { event: 'socket-opened', groups: { link: '4' } } });
    expect(find(ls, 'STATUS:2')).toMatchObject({ kind: 'info' });
  });

  it('espat_08: AT+CIPSTART gets busy p... three times, then ERROR, then 4,CLOSED', () => {
    const ls = lines('espat_08_cipstart-busy-p-error-closed.txt');
    expect(conversation(ls, 'AT+CIPSTART=4,"TCP","192.168.1.32",8000', 6)).toEqual([
      'echo:AT+CIPSTART=4,"TCP","192.168.1.32",8000',
      'busy:busy p...',
      'busy:busy p...',
      'busy:busy p...',
      'final:ERROR',
      'noise:esp ERROR: expected OK got ERROR',
    ]);
    expect(ls.find((l) => /4,CLOSED/.test(l.text))).toBeDefined();
  });

  it('espat_03: Recv 104 bytes, SEND OK, then an unsolicited SEND FAIL; the "> " prompt is a prompt', () => {
    const file = 'espat_03_udp-send-ok-then-send-fail.txt';
    const ls = lines(file);
    expect(urcEvents(ls)).toEqual(['send-progress', 'send-ok', 'send-fail']);
    expect(find(ls, 'Recv 104 bytes')!.urc!.groups).toEqual({ len: '104' });
    expect(frames(file).filter((f) => f.kind === 'prompt')).toHaveLength(1);
  });

  it('espat_13: the reboot garbage is noise, then ready, then STATUS:5 answers every AT+CIPSTATUS', () => {
    const ls = lines('espat_13_rst-garbage-then-ready-cipstatus5.txt');
    const ready = ls.findIndex((l) => l.text.trim() === 'ready');
    expect(ls[ready]).toMatchObject({ kind: 'urc', urc: { event: 'boot' }, reboot: true });
    expect(ls.slice(ready - 2, ready).map((l) => l.kind)).toEqual(['noise', 'noise']);
    expect(ls.filter((l) => l.text.trim() === 'STATUS:5').every((l) => l.kind === 'info')).toBe(true);
    expect(ls.filter((l) => l.text.trim() === 'STATUS:5').length).toBe(3);
  });

  it('espat_22: a sleeping module answers nothing; awake, AT is echoed and answered OK, ATE0 echoed once', () => {
    const ls = lines('espat_22_wake-probe-at-ate0-timestamped.txt').filter((l) => l.kind !== 'noise');
    expect(conversation(ls, 'ATE0', 3)).toEqual(['echo:ATE0', 'echo:ATE0', 'final:OK']);
    expect(conversation(ls, 'AT+CIPMUX=1', 2)).toEqual(['echo:AT+CIPMUX=1', 'final:OK']);
  });

  it('espat_23: the join reports WIFI CONNECTED and WIFI GOT IP before OK', () => {
    const ls = lines('espat_23_manual-cwjap-def-vs-host-failures.txt');
    expect(conversation(ls, 'AT+CWJAP_DEF="myap","mypassword"', 4, 'last')).toEqual([
      'echo:AT+CWJAP_DEF="myap","mypassword"',
      'urc:WIFI CONNECTED',
      'urc:WIFI GOT IP',
      'final:OK',
    ]);
  });

  it('espat_24: 0.9.x says "busy now ..." (busy) and "no change" (a final OK)', () => {
    const ls = lines('espat_24_v0.9-rst-busy-now-no-change-arduino-forum.txt');
    expect(find(ls, 'busy now ...')).toMatchObject({ kind: 'busy', busy: 'processing' });
    expect(find(ls, 'no change')).toMatchObject({ kind: 'final', final: { outcome: 'ok' } });
    expect(ls.filter((l) => l.urc?.event === 'boot' && l.reboot).length).toBeGreaterThanOrEqual(4);
  });

  it('espat_25: "busy inet…" (UTF-8 ellipsis) is busy, "wrong syntax" a final error, +IPD,1,4:GO1 a block', () => {
    const file = 'espat_25_v0.9-busy-inet-wrong-syntax-link-scargill.txt';
    const ls = lines(file);
    const busy = ls.filter((l) => l.kind === 'busy');
    expect(busy.length).toBe(2);
    expect(busy[0]).toMatchObject({ busy: 'sending' });
    expect(find(ls, 'wrong syntax')).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
    expect(blocks(frames(file))[0]).toMatchObject({ name: '+IPD', groups: { id: '1', len: '4' } });
  });

  it('espat_26: AT+MQTTSUB is answered +MQTTDISCONNECTED:0 then ERROR', () => {
    const ls = lines('espat_26_mqtt-connected-then-sub-disconnect.txt');
    expect(conversation(ls, 'AT+MQTTSUB=0,"v1/devices/me/telemetry",1', 3)).toEqual([
      'echo:AT+MQTTSUB=0,"v1/devices/me/telemetry",1',
      'urc:+MQTTDISCONNECTED:0',
      'final:ERROR',
    ]);
  });

  it('espat_17: +IPD,<id>,<len>,<ip>,<port>: (CIPDINFO) carries the HTTP request', () => {
    const [ipd] = blocks(frames('espat_17_esp32-server-cipdinfo-ipd-cipsend-error.txt'));
    expect(ipd).toMatchObject({ name: '+IPD', groups: { id: '0', len: '405', ip: '192.168.4.2', port: '49519' } });
    expect(ipd!.data.toString('latin1')).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: 192\.168\.4\.1\r\n/);
  });

  it('sim7600_18: +CME ERROR: SIM not inserted is a final error with its meaning', () => {
    expect(find(lines('sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt'), '+CME ERROR: SIM not inserted')).toMatchObject({
      kind: 'final',
      final: { outcome: 'error', table: 'cme', meaning: 'SIM not inserted' },
    });
  });

  it('sim7600_16: A76xx banner, SIM failure, then +CPIN: READY unsolicited and +CGREG: 0,0 again and again', () => {
    const ls = lines('sim7600_16_a7670g-sim-failure-then-ready-cgreg-0-0-forever.txt');
    expect(find(ls, '*ATREADY: 1')).toMatchObject({ kind: 'urc', urc: { event: 'boot' } });
    expect(conversation(ls, '+CME ERROR: SIM failure', 3)).toEqual(['final:+CME ERROR: SIM failure', 'urc:+CPIN: READY', 'urc:SMS DONE']);
    expect(ls.filter((l) => l.text.trim() === '+CGREG: 0,0' && l.kind === 'info').length).toBeGreaterThanOrEqual(10);
  });

  it('sim7600_06: the network drops (+CIPEVENT) between a command and its echo, then SMS DONE says the module re-initialised', () => {
    const ls = lines('sim7600_06_cipevent-then-sms-done-reboot.txt');
    const events = urcEvents(ls);
    expect(events.indexOf('network-lost')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('init-done')).toBeGreaterThan(events.indexOf('network-lost'));
    expect(conversation(ls, '+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY', 3)).toEqual([
      'urc:+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY',
      'echo:AT+CIPRXGET=4,1',
      'info:+CIPRXGET: 4,1,0',
    ]);
  });

  it('sim7600_07 and _15: +NETOPEN: 0 glued to the next command echo is still the URC, then the echo', () => {
    const a = lines('sim7600_07_cipclose-0-4-http-stalls.txt');
    expect(conversation(a, '+NETOPEN: 0', 2)).toEqual(['urc:+NETOPEN: 0', 'echo:AT+NETOPEN?']);
    expect(find(a, '+CIPCLOSE: 0,4')).toMatchObject({ kind: 'info' });
    const b = lines('sim7600_15_netopen-urc-glued-sms-done-cmqtt-err34.txt');
    // The late SMS DONE comes between the glued echo and the host's own copy of the command.
    expect(conversation(b, '+NETOPEN: 0', 5)).toEqual(['urc:+NETOPEN: 0', 'echo:AT+IPADDR', 'urc:SMS DONE', 'echo:AT+IPADDR', 'info:+IPADDR: 10.17.51.118']);
    expect(find(b, '+CGEV: EPS PDN ACT 1')).toMatchObject({ kind: 'urc', urc: { event: 'pdp' } });
  });

  it('espat_01: Recv 10 bytes, SEND FAIL, then SEND OK for the same send', () => {
    expect(urcEvents(lines('espat_01_send-fail-then-send-ok.txt'))).toEqual(['send-progress', 'send-fail', 'send-ok']);
  });

  it('sim7600_03: +CIPOPEN: 1,3 answers the open, then ERROR', () => {
    const ls = lines('sim7600_03_udp-cipopen-err3.txt');
    expect(conversation(ls, '+CIPOPEN: 1,3', 2)).toEqual(['info:+CIPOPEN: 1,3', 'final:ERROR']);
  });

  it('sim7600_13: the power-on banner RDY, +CPIN: READY, SMS DONE, PB DONE; +CMQTTCONNECT: 0,0 after OK', () => {
    const ls = lines('sim7600_13_cmqtt-connect-ok-vs-err32.txt');
    expect(find(ls, 'RDY')).toMatchObject({ kind: 'urc', urc: { event: 'boot' }, reboot: true });
    expect(find(ls, '+CPIN: READY')).toMatchObject({ kind: 'urc', urc: { event: 'sim', meaning: expect.any(String) } });
    expect(find(ls, '+CMQTTCONNECT: 0,0')).toMatchObject({ kind: 'urc', urc: { event: 'mqtt', groups: { client: '0', code: '0' } } });
  });

  it('sim7600_24: DATA ACCEPT, +CIPRXGET: 1,0 (data waiting), and a CIPRXGET=2 read that takes its 4 bytes', () => {
    const file = 'sim7600_24_sim800-ciprxget-manual-read-flow.txt';
    const ls = lines(file);
    expect(find(ls, 'DATA ACCEPT:0,27')).toMatchObject({ kind: 'urc', urc: { event: 'send-confirm', groups: { link: '0', len: '27' } } });
    expect(find(ls, '+CIPRXGET: 1,0')).toMatchObject({ kind: 'urc', urc: { event: 'data-available' } });
    expect(find(ls, '+CIPRXGET: 4,0,4')).toMatchObject({ kind: 'info' });
    const [read] = blocks(frames(file));
    expect(read).toMatchObject({ name: '+CIPRXGET: 2', purpose: 'read', groups: { id: '0', len: '4', rest: '0' } });
    expect(read!.data.length).toBe(4);
  });

  it('espat_34: the ROM boot text (rst cause) marks a reboot', () => {
    const ls = lines('espat_34_aithinker-invalid-mem-check-fail-cwjap1-fail.txt');
    expect(ls.some((l) => /rst cause:2/.test(l.text) && l.kind === 'urc' && l.urc?.event === 'boot')).toBe(true);
  });
});

describe('a response and a URC that share a prefix', () => {
  const profile = getProfile('sim7600');
  it('+CREG: 0,1 answering AT+CREG? is the response; the same line unsolicited is a URC', () => {
    const asked = classifyLine('+CREG: 0,1', profile, { text: 'AT+CREG?', responsePrefix: '+CREG', finals: [], echoPending: false });
    expect(asked.kind).toBe('info');
    const unsolicited = classifyLine('+CREG: 1', profile, undefined);
    expect(unsolicited).toMatchObject({ kind: 'urc', urc: { event: 'registration' } });
    const duringOther = classifyLine('+CREG: 2', profile, { text: 'AT+CSQ', responsePrefix: '+CSQ', finals: [], echoPending: false });
    expect(duringOther.kind).toBe('urc');
  });
});
