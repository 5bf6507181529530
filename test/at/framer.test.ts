import { describe, expect, it } from 'vitest';
import { AtFramer, type Frame } from '../../src/at/framer.js';
import { getProfile } from '../../src/profile/index.js';

// Pure parser tests: an in-process feed is right here (the pty tests cover the real port).
function frames(profile: 'sim7600' | 'esp-at', ...chunks: (string | Buffer)[]): Frame[] {
  const out: Frame[] = [];
  const framer = new AtFramer(getProfile(profile), (f) => out.push(f));
  for (const c of chunks) framer.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  framer.flush();
  return out;
}
const texts = (fs: Frame[]) => fs.map((f) => (f.kind === 'line' ? f.text : f.kind === 'block' ? `[${f.name}:${f.data.toString('latin1')}]` : `<${f.kind}>`));
const binary = Buffer.from([0x00, 0x0d, 0x0a, 0x4f, 0x4b, 0x0d, 0x0a, 0xff, 0x2b, 0x49]);

describe('AtFramer', () => {
  it('frames finals, information lines and URCs by their line ends', () => {
    expect(texts(frames('sim7600', '\r\n+CSQ: 21,99\r\n\r\nOK\r\n\r\n+CME ERROR: 10\r\n\r\nCONNECT 115200\r\n\r\nNO CARRIER\r\n')).filter(Boolean)).toEqual([
      '+CSQ: 21,99', 'OK', '+CME ERROR: 10', 'CONNECT 115200', 'NO CARRIER',
    ]);
  });

  it.each([['> '], ['>']])('emits the %j prompt with no line end after it', (prompt) => {
    expect(frames('esp-at', `\r\nOK\r\n\r\n${prompt}`).map((f) => f.kind)).toEqual(['line', 'prompt']);
  });

  it('ESP-AT +IPD,<len>: and +IPD,<id>,<len>: carry raw bytes, CR LF and "OK" included', () => {
    const fs = frames('esp-at', '\r\n+IPD,10:', binary, '\r\n+IPD,3,4:abcd\r\nOK\r\n');
    const blocks = fs.filter((f): f is Extract<Frame, { kind: 'block' }> => f.kind === 'block');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]!.data.equals(binary)).toBe(true);
    expect(blocks[1]).toMatchObject({ groups: { id: '3', len: '4' } });
    expect(blocks[1]!.data.toString()).toBe('abcd');
    expect(texts(fs).at(-1)).toBe('OK');
  });

  it('SIM7600 +IPD<len>, +RECEIVE,<id>,<len> and +CIPRXGET: 2 reads take the bytes after the header line', () => {
    const fs = frames('sim7600', '\r\n+IPD10\r\n', binary, '\r\n+RECEIVE,1,3:\r\nxyz', '\r\n+CIPRXGET: 2,0,4,0\r\n\r\nOK\r\n\r\nOK\r\n');
    const blocks = fs.filter((f): f is Extract<Frame, { kind: 'block' }> => f.kind === 'block');
    expect(blocks.map((b) => b.name)).toEqual(['+IPD', '+RECEIVE', '+CIPRXGET: 2']);
    expect(blocks[0]!.data.equals(binary)).toBe(true);
    expect(blocks[1]!.data.toString()).toBe('xyz');
    expect(blocks[2]).toMatchObject({ purpose: 'read', groups: { len: '4', rest: '0' } });
    expect(blocks[2]!.data.toString('latin1')).toBe('\r\nOK');
  });

  it('in data mode every byte is data until the mode ends', () => {
    const out: Frame[] = [];
    const framer = new AtFramer(getProfile('sim7600'), (f) => out.push(f));
    framer.setDataMode(true);
    framer.push(Buffer.from('\r\nOK\r\n+IPD5\r\n'));
    framer.setDataMode(false);
    framer.push(Buffer.from('\r\nOK\r\n'));
    expect(out.map((f) => f.kind)).toEqual(['data', 'line']);
  });

  it('never throws or hangs on garbage, and long runs without a line end are cut', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const profile of ['sim7600', 'esp-at'] as const) {
      const junk = Buffer.alloc(200_000, 0);
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
      const fs = frames(profile, junk, '+IPD,99999999999:', Buffer.alloc(10_000, 0x41), '\r\nOK\r\n');
      expect(fs.every((f) => f.kind !== 'line' || f.text.length <= 4096)).toBe(true);
    }
  });
});
