import { describe, expect, it } from 'vitest';
import { forPerson } from '../../src/doctor/findings.js';
import { isGarbage } from '../../src/doctor/rules/text.js';

/** Line noise vs a person's words: the text rule's two sides, on bytes read as latin1. */
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('isGarbage', () => {
  it('a pasted UTF-8 comment is words, not noise', () => {
    expect(isGarbage(latin1('AT+CSQ 查询信号强度'))).toBe(false);
    expect(isGarbage('AT+CSQ')).toBe(false);
  });

  it('a wrong rate reads as NULs and high bytes, even with one valid UTF-8 character in them', () => {
    expect(isGarbage(`\0\0\0${latin1('一')}`)).toBe(true);
    expect(isGarbage('\xff\xfe\x80\x00\xf0')).toBe(true);
  });
});

describe('forPerson: what a finding shows of a raw line', () => {
  it('decodes pasted UTF-8, escapes control bytes (C1 included) and leaves other bytes readable', () => {
    expect(forPerson(latin1('busy inet…'))).toBe('busy inet…');
    expect(forPerson('\x02OK\x9b[2J')).toBe('\\x02OK\\x9b[2J');
    expect(forPerson('\xffAT\xfe')).toBe('ÿATþ');
  });
});
