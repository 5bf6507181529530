import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyLine, type ClassifiedLine } from '../../src/at/classify.js';
import { getProfile } from '../../src/profile/index.js';
import { classifyTranscript, transcriptBytes } from './transcript.js';

const DIR = 'fixtures/logs';
const logs = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const profileFor = (file: string) => getProfile(file.startsWith('espat') ? 'esp-at' : 'sim7600');

/** Seeded PRNG (mulberry32): random chunkings that repeat run after run. */
function rng(seed: number): () => number {
  return () => {
    let t = (seed = (seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const oneByte = (buf: Buffer) => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
const randomChunks = (seed: number) => (buf: Buffer) => {
  const random = rng(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; ) {
    const n = 1 + Math.floor(random() * 40);
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
};

describe('every field log', () => {
  it.each(logs)('%s: framed and classified without an exception, the same in any chunking', (file) => {
    const profile = profileFor(file);
    const bytes = transcriptBytes(join(DIR, file));
    const whole = classifyTranscript(bytes, profile);
    expect(whole.lines.length).toBeGreaterThan(0);
    expect(classifyTranscript(bytes, profile, oneByte).frames).toEqual(whole.frames);
    expect(classifyTranscript(bytes, profile, randomChunks(file.length)).frames).toEqual(whole.frames);
  });
});

function lines(file: string): ClassifiedLine[] {
  return classifyTranscript(transcriptBytes(join(DIR, file)), profileFor(file)).lines;
}
const find = (ls: ClassifiedLine[], text: string) => ls.find((l) => l.text.trim() === text);
const urcEvents = (ls: ClassifiedLine[]) => ls.filter((l) => l.kind === 'urc').map((l) => l.urc!.event);

describe('what a person reading the logs sees', () => {
  it('sim7600_09: NETOPEN, CIPOPEN, CIPSEND and CIPCLOSE results arrive as URCs after OK', () => {
    const ls = lines('sim7600_09_tcp-and-transparent-walkthrough-csdn.txt');
    expect(find(ls, '+NETOPEN: 0')).toMatchObject({ kind: 'urc', urc: { event: 'network-opened', meaning: 'success' } });
    expect(find(ls, '+CIPOPEN: 0,0')).toMatchObject({ kind: 'urc', urc: { event: 'socket-opened' } });
    expect(find(ls, '+CIPSEND: 0,5,5')).toMatchObject({ kind: 'urc', urc: { event: 'send-confirm' } });
    expect(find(ls, '+CSQ: 31,99')).toMatchObject({ kind: 'info' });
    expect(urcEvents(ls)).toContain('socket-close-done');
  });

  it('espat_11: busy p... while CWJAP runs, then +CWJAP:4 and ERROR', () => {
    const ls = lines('espat_11_busy-p-during-cwjap-and-cipstart.txt');
    expect(ls.filter((l) => l.kind === 'busy').length).toBeGreaterThanOrEqual(20);
    const at = ls.findIndex((l) => l.text.trim() === '+CWJAP:4');
    expect(ls[at]!.kind).toBe('info');
    expect(ls[at + 1]).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
  });

  it('espat_23: the join reports WIFI CONNECTED and WIFI GOT IP', () => {
    expect(urcEvents(lines('espat_23_manual-cwjap-def-vs-host-failures.txt'))).toEqual(expect.arrayContaining(['wifi-connected', 'wifi-got-ip']));
  });

  it('sim7600_18: +CME ERROR: SIM not inserted is a final error with its meaning', () => {
    expect(find(lines('sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt'), '+CME ERROR: SIM not inserted')).toMatchObject({
      kind: 'final',
      final: { outcome: 'error', meaning: 'SIM not inserted' },
    });
  });

  it('sim7600_16: A76xx banner, SIM failure, then +CGREG: 0,0 again and again', () => {
    const ls = lines('sim7600_16_a7670g-sim-failure-then-ready-cgreg-0-0-forever.txt');
    expect(find(ls, '*ATREADY: 1')).toMatchObject({ kind: 'urc', urc: { event: 'boot' } });
    expect(find(ls, '+CME ERROR: SIM failure')).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
    expect(ls.filter((l) => l.text.trim() === '+CGREG: 0,0' && l.kind === 'info').length).toBeGreaterThanOrEqual(10);
  });

  it('sim7600_06: the network drops (+CIPEVENT), then SMS DONE says the module re-initialised', () => {
    const events = urcEvents(lines('sim7600_06_cipevent-then-sms-done-reboot.txt'));
    expect(events.indexOf('network-lost')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('init-done')).toBeGreaterThan(events.indexOf('network-lost'));
  });

  it('espat_01: Recv 10 bytes, SEND FAIL, then SEND OK for the same send', () => {
    expect(urcEvents(lines('espat_01_send-fail-then-send-ok.txt'))).toEqual(['send-progress', 'send-fail', 'send-ok']);
  });

  it('sim7600_03: +CIPOPEN: 1,3 answers the open, then ERROR', () => {
    const ls = lines('sim7600_03_udp-cipopen-err3.txt');
    const at = ls.findIndex((l) => l.text.trim() === '+CIPOPEN: 1,3');
    expect(ls[at]!.kind).toBe('info');
    expect(ls[at + 1]).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
  });

  it('sim7600_13: the power-on banner RDY, +CPIN: READY, SMS DONE, PB DONE', () => {
    const ls = lines('sim7600_13_cmqtt-connect-ok-vs-err32.txt');
    expect(find(ls, 'RDY')).toMatchObject({ kind: 'urc', urc: { event: 'boot' }, reboot: true });
    expect(find(ls, '+CPIN: READY')).toMatchObject({ kind: 'urc', urc: { event: 'sim' } });
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
