import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyLine, type CommandContext } from '../../src/at/classify.js';
import { AtFramer, type Frame } from '../../src/at/framer.js';
import { getProfile, type ModuleProfile } from '../../src/profile/index.js';
import { chunkings, oneByte, rng, type Split } from './chunking.js';

// Pure parser tests: an in-process feed is right here (the pty tests cover the real port).
type Family = 'sim7600' | 'esp-at';
function frames(profile: Family | ModuleProfile, ...chunks: (string | Buffer)[]): Frame[] {
  const out: Frame[] = [];
  const framer = new AtFramer(typeof profile === 'string' ? getProfile(profile) : profile, (f) => out.push(f));
  for (const c of chunks) framer.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  framer.flush();
  return out;
}
function framesSplit(profile: Family, bytes: Buffer, split: Split): Frame[] {
  return frames(profile, ...split(bytes));
}
const texts = (fs: Frame[]) => fs.map((f) => (f.kind === 'line' ? f.text : f.kind === 'block' ? `[${f.name}:${f.data.toString('latin1')}]` : `<${f.kind}>`));
const blocksOf = (fs: Frame[]) => fs.filter((f): f is Extract<Frame, { kind: 'block' }> => f.kind === 'block');
const binary = Buffer.from([0x00, 0x0d, 0x0a, 0x4f, 0x4b, 0x0d, 0x0a, 0xff, 0x2b, 0x49]);
const sim = getProfile('sim7600');
const esp = getProfile('esp-at');
const ctx = (text: string, finals: CommandContext['finals'] = []): CommandContext => ({ text, responsePrefix: text.match(/^AT(\+[A-Z]+)/)?.[1], finals, echoPending: false });

describe('AtFramer: lines', () => {
  it('frames finals, information lines and URCs by their line ends (CR LF, lone CR, lone LF)', () => {
    expect(texts(frames('sim7600', '\r\n+CSQ: 21,99\r\n\r\nOK\r\n\r\n+CME ERROR: 10\r\n\r\nCONNECT 115200\r\n\r\nNO CARRIER\r\n'))).toEqual([
      '+CSQ: 21,99', 'OK', '+CME ERROR: 10', 'CONNECT 115200', 'NO CARRIER',
    ]);
    expect(texts(frames('sim7600', 'AT\rOK\nRDY\r\n\n\r+CPIN: READY'))).toEqual(['AT', 'OK', 'RDY', '+CPIN: READY']);
  });

  it('keeps every byte value of a line (latin1, never decoded as UTF-8)', () => {
    const raw = Buffer.from([0x57, 0xe2, 0x80, 0xa6, 0xff, 0x00, 0x41]);
    const [line] = frames('esp-at', raw, '\r\n');
    expect(line).toMatchObject({ kind: 'line' });
    expect((line as Extract<Frame, { kind: 'line' }>).raw.equals(raw)).toBe(true);
    expect(Buffer.from((line as Extract<Frame, { kind: 'line' }>).text, 'latin1').equals(raw)).toBe(true);
  });
});

describe('classifying what the framer gives', () => {
  it.each([
    ['sim7600', 'OK', 'ok', {}],
    ['sim7600', 'ERROR', 'error', {}],
    ['sim7600', '+CME ERROR: 10', 'error', { code: '10', table: 'cme', meaning: 'SIM not inserted' }],
    ['sim7600', '+CME ERROR: SIM PIN required', 'error', { code: 'SIM PIN required', meaning: 'SIM PIN required' }],
    ['sim7600', '+CMS ERROR: 500', 'error', { code: '500', table: 'cms' }],
    ['sim7600', 'NO CARRIER', 'no-carrier', {}],
    ['esp-at', 'OK', 'ok', {}],
    ['esp-at', 'ERROR', 'error', {}],
    ['esp-at', 'FAIL', 'error', {}],
    ['esp-at', 'no change', 'ok', {}],
    ['esp-at', 'wrong syntax', 'error', {}],
  ] as const)('%s: "%s" is a final result (%s)', (family, text, outcome, extra) => {
    const line = classifyLine(text, getProfile(family), ctx('AT+X'));
    expect(line).toMatchObject({ kind: 'final', final: { outcome, ...extra } });
  });

  it('SEND OK / SEND FAIL end the data phase of a send (the profile says so); unsolicited they are URCs', () => {
    const finals = esp.compileResults(esp.command('socketSend').dataFinals);
    expect(classifyLine('SEND OK', esp, ctx('AT+CIPSEND=5', finals))).toMatchObject({ kind: 'final', final: { outcome: 'ok' } });
    expect(classifyLine('SEND FAIL', esp, ctx('AT+CIPSEND=5', finals))).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
    expect(classifyLine('SEND FAIL', esp, undefined)).toMatchObject({ kind: 'urc', urc: { event: 'send-fail' } });
    expect(classifyLine('1,SEND OK', esp, undefined)).toMatchObject({ kind: 'urc', urc: { event: 'send-ok', groups: { link: '1' } } });
  });

  it('CONNECT [rate] ends a transparent open (with the rate); plain CONNECT too', () => {
    const finals = sim.compileResults(sim.command('socketOpenTransparent').finals);
    const open = ctx('AT+CIPOPEN=0,"TCP","h",1', finals);
    expect(classifyLine('CONNECT 115200', sim, open)).toMatchObject({ kind: 'final', final: { outcome: 'connect', groups: { rate: '115200' } } });
    expect(classifyLine('CONNECT', sim, open)).toMatchObject({ kind: 'final', final: { outcome: 'connect' } });
    expect(classifyLine('CONNECT FAIL', sim, open)).toMatchObject({ kind: 'final', final: { outcome: 'error' } });
  });

  it('busy p... / busy s... are "retry later", 0.9.x spellings included (UTF-8 "…" read as bytes)', () => {
    expect(classifyLine('busy p...', esp, ctx('AT'))).toMatchObject({ kind: 'busy', busy: 'processing' });
    expect(classifyLine('busy s...', esp, ctx('AT'))).toMatchObject({ kind: 'busy', busy: 'sending' });
    expect(classifyLine(Buffer.from('busy inet…', 'utf8').toString('latin1'), esp, ctx('AT'))).toMatchObject({ kind: 'busy', busy: 'sending' });
  });

  it('echo, information, URCs, host commands and noise', () => {
    expect(classifyLine('AT+CSQ', sim, { ...ctx('AT+CSQ'), echoPending: true }).kind).toBe('echo');
    expect(classifyLine('+CSQ: 21,99', sim, ctx('AT+CSQ')).kind).toBe('info');
    expect(classifyLine('+CPIN: READY', sim, ctx('AT+CSQ'))).toMatchObject({ kind: 'urc', urc: { event: 'sim' } });
    expect(classifyLine('AT+CSQ', sim, undefined).kind).toBe('command');
    expect(classifyLine('\u00ff\u00fe\u0001\u0080', sim, undefined).kind).toBe('noise');
    expect(classifyLine(' ets Jan  8 2013,rst cause:2, boot mode:(3,6)', esp, undefined)).toMatchObject({ kind: 'urc', urc: { event: 'boot', meaning: expect.any(String) }, reboot: true });
    expect(classifyLine('+CWJAP:2', esp, undefined)).toMatchObject({ kind: 'urc', urc: { event: 'wifi-join-error', meaning: 'wrong password' } });
  });
});

describe('AtFramer: the > prompt', () => {
  it.each([['> '], ['>']])('emits the %j prompt with no line end after it', (prompt) => {
    expect(frames('esp-at', `\r\nOK\r\n\r\n${prompt}`).map((f) => f.kind)).toEqual(['line', 'prompt']);
    expect(frames('sim7600', `\r\n${prompt}`).map((f) => f.kind)).toEqual(['prompt']);
  });

  it('the space after the prompt is not part of what follows, even in the next chunk', () => {
    const whole = frames('esp-at', '\r\n> \r\nRecv 5 bytes\r\n');
    expect(texts(whole)).toEqual(['<prompt>', 'Recv 5 bytes']);
    expect(frames('esp-at', '\r\n>', ' ', 'Recv 5 bytes\r\n')).toEqual(frames('esp-at', '\r\n> Recv 5 bytes\r\n'));
    expect(texts(frames('esp-at', '\r\n> busy...\r\n'))).toEqual(['<prompt>', 'busy...']);
  });

  it('only a > at the start of a line is a prompt', () => {
    expect(texts(frames('sim7600', '\r\n+CMGL: 1,"a>b"\r\n'))).toEqual(['+CMGL: 1,"a>b"']);
  });
});

describe('AtFramer: binary blocks after a header', () => {
  it('ESP-AT +IPD,<len>: and +IPD,<id>,<len>: carry raw bytes, CR LF and "OK" included', () => {
    const fs = frames('esp-at', '\r\n+IPD,10:', binary, '\r\n+IPD,3,4:abcd\r\nOK\r\n');
    const blocks = blocksOf(fs);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]!.data.equals(binary)).toBe(true);
    expect(blocks[0]).toMatchObject({ name: '+IPD', purpose: 'push', groups: { len: '10' }, complete: true });
    expect(blocks[1]).toMatchObject({ groups: { id: '3', len: '4' } });
    expect(blocks[1]!.data.toString()).toBe('abcd');
    expect(texts(fs).at(-1)).toBe('OK');
  });

  it('ESP-AT +IPD with the remote address (CIPDINFO) and +CIPRECVDATA reads', () => {
    const fs = frames('esp-at', '+IPD,0,5,"10.0.0.2",1883:', 'ab\r\nc', '\r\n+CIPRECVDATA:3,', Buffer.from([0x30, 0x0d, 0x0a]), '\r\nOK\r\n');
    const blocks = blocksOf(fs);
    expect(blocks[0]).toMatchObject({ groups: { id: '0', len: '5', ip: '10.0.0.2', port: '1883' } });
    expect(blocks[0]!.data.toString('latin1')).toBe('ab\r\nc');
    expect(blocks[1]).toMatchObject({ name: '+CIPRECVDATA', purpose: 'read', groups: { len: '3' } });
    expect(blocks[1]!.data.equals(Buffer.from([0x30, 0x0d, 0x0a]))).toBe(true);
    expect(texts(fs).at(-1)).toBe('OK');
  });

  it('SIM7600 +IPD<len>, +RECEIVE,<id>,<len> and +CIPRXGET: 2 reads take the bytes after the header line', () => {
    const fs = frames('sim7600', '\r\n+IPD10\r\n', binary, '\r\n+RECEIVE,1,3:\r\nxyz', '\r\n+CIPRXGET: 2,0,4,0\r\n\r\nOK\r\n\r\nOK\r\n');
    const blocks = blocksOf(fs);
    expect(blocks.map((b) => b.name)).toEqual(['+IPD', '+RECEIVE', '+CIPRXGET: 2']);
    expect(blocks[0]!.data.equals(binary)).toBe(true);
    expect(blocks[1]!.data.toString()).toBe('xyz');
    expect(blocks[2]).toMatchObject({ purpose: 'read', groups: { len: '4', rest: '0' } });
    expect(blocks[2]!.data.toString('latin1')).toBe('\r\nOK');
    expect(texts(fs).slice(-1)).toEqual(['OK']);
  });

  it('a header line ended by a lone LF or a lone CR takes the very next bytes', () => {
    expect(blocksOf(frames('sim7600', '+IPD3\n\r\nX'))[0]!.data.toString('latin1')).toBe('\r\nX');
    // After a lone CR, one LF is the rest of the line end, not data.
    expect(blocksOf(frames('sim7600', '+IPD3\r', '\n', 'abc'))[0]!.data.toString('latin1')).toBe('abc');
  });

  it('a header inside a block is data, not a second block', () => {
    const fs = frames('esp-at', '+IPD,9:+IPD,3:ab', '\r\nOK\r\n');
    expect(blocksOf(fs)).toHaveLength(1);
    expect(blocksOf(fs)[0]!.data.toString('latin1')).toBe('+IPD,3:ab');
    expect(texts(fs).at(-1)).toBe('OK');
  });

  it('a block cut off at the end of the input is emitted as incomplete', () => {
    const [block] = blocksOf(frames('esp-at', '+IPD,10:abc'));
    expect(block).toMatchObject({ complete: false });
    expect(block!.data.toString()).toBe('abc');
  });

  it('a header announcing an impossible length is a line, so the final result after it is still heard', () => {
    const fs = frames('esp-at', '\r\n+IPD,99999999999:', '\r\nOK\r\n');
    expect(blocksOf(fs)).toHaveLength(0);
    expect(texts(fs).at(-1)).toBe('OK');
    expect(texts(frames('sim7600', '\r\n+IPD99999999\r\n\r\nOK\r\n')).at(-1)).toBe('OK');
  });
});

describe('AtFramer: data (transparent) mode', () => {
  it('every byte is data until the mode ends', () => {
    const out: Frame[] = [];
    const framer = new AtFramer(sim, (f) => out.push(f));
    framer.setDataMode(true);
    framer.push(Buffer.from('\r\nOK\r\n+IPD5\r\n'));
    framer.setDataMode(false);
    framer.push(Buffer.from('\r\nOK\r\n'));
    expect(out.map((f) => f.kind)).toEqual(['data', 'line']);
  });

  it('a switch made by the CONNECT listener applies to the rest of the same chunk (the LF after CONNECT is not data)', () => {
    const out: Frame[] = [];
    const framer: AtFramer = new AtFramer(sim, (f) => {
      out.push(f);
      if (f.kind === 'line' && f.text.startsWith('CONNECT')) framer.setDataMode(true);
    });
    framer.push(Buffer.from('\r\nCONNECT 115200\r\n\x10\x02\x00\x00'));
    expect(out.map((f) => f.kind)).toEqual(['line', 'data']);
    expect((out[1] as Extract<Frame, { kind: 'data' }>).data.equals(Buffer.from([0x10, 2, 0, 0]))).toBe(true);
  });
});

/** Streams like a real session: lines of every log in random order, with blocks, prompts and junk spliced in. */
function syntheticStream(family: Family, seed: number): Buffer {
  const random = rng(seed);
  const pool = readdirSync('fixtures/logs')
    .filter((f) => f.startsWith(family === 'esp-at' ? 'espat' : 'sim7600'))
    .flatMap((f) => readFileSync(join('fixtures/logs', f), 'latin1').split('\n').slice(2))
    // A blank line frames nothing; the corpus's documentation pages have many.
    .filter((l) => l.trim() !== '');
  const parts: Buffer[] = [];
  const ends = ['\r\n', '\r', '\n', '\r\n\r\n'];
  for (let i = 0; i < 60; i++) {
    const r = random();
    const payload = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
    if (r < 0.6) parts.push(Buffer.from(pool[Math.floor(random() * pool.length)]! + ends[Math.floor(random() * ends.length)], 'latin1'));
    else if (r < 0.7) parts.push(Buffer.from(random() < 0.5 ? '\r\n> ' : '\r\n>', 'latin1'));
    else if (r < 0.85 && family === 'esp-at') parts.push(Buffer.from(`\r\n+IPD,${random() < 0.5 ? '1,' : ''}${payload.length}:`, 'latin1'), payload);
    else if (r < 0.85) parts.push(Buffer.from(random() < 0.5 ? `\r\n+IPD${payload.length}\r\n` : `\r\n+CIPRXGET: 2,0,${payload.length},0\r\n`, 'latin1'), payload, Buffer.from('\r\nOK\r\n'));
    else parts.push(payload); // junk, as after a reboot at the wrong rate
  }
  return Buffer.concat(parts);
}

describe('fragmentation (property): the same bytes cut any way give the same frames', () => {
  for (const family of ['sim7600', 'esp-at'] as const) {
    it(`${family}: 40 synthetic streams from the logs, with blocks, prompts and junk, each cut 4 ways`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const bytes = syntheticStream(family, seed);
        const whole = frames(family, bytes);
        expect(whole.length).toBeGreaterThan(20);
        for (const [name, split] of chunkings(seed * 7)) expect(framesSplit(family, bytes, split), `${family} seed ${seed}, ${name}`).toEqual(whole);
      }
    });
  }

  it('the blocks of a synthetic stream come out byte-exact', () => {
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const bytes = Buffer.concat([Buffer.from('\r\nOK\r\n+IPD,1,256:'), payload, Buffer.from('\r\n+IPD,2:'), Buffer.from('\r\n'), Buffer.from('\r\nOK\r\n')]);
    const blocks = blocksOf(framesSplit('esp-at', bytes, oneByte));
    expect(blocks.map((b) => b.data.length)).toEqual([256, 2]);
    expect(blocks[0]!.data.equals(payload)).toBe(true);
  });
});

describe('garbage', () => {
  it('random bytes never throw, lines stay bounded, and a final result after them is still heard', () => {
    for (const family of ['sim7600', 'esp-at'] as const) {
      for (let seed = 1; seed <= 5; seed++) {
        const random = rng(seed);
        const junk = Buffer.from(Array.from({ length: 50_000 }, () => Math.floor(random() * 256)));
        const fs = frames(family, junk, '\r\nOK\r\n');
        expect(fs.every((f) => f.kind !== 'line' || f.text.length <= 4096)).toBe(true);
        expect(texts(fs).at(-1)).toBe('OK');
        for (const f of fs) if (f.kind === 'line') classifyLine(f.text, getProfile(family), seed % 2 ? undefined : ctx('AT'));
      }
    }
  });

  it('a long run with no line end is cut into bounded lines', () => {
    const fs = frames('esp-at', Buffer.alloc(10_000, 0x41), '\r\n');
    expect(fs.length).toBe(3);
    expect(fs.every((f) => f.kind === 'line' && f.text.length <= 4096)).toBe(true);
  });
});
