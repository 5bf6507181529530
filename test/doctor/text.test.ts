import { describe, expect, it } from 'vitest';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { forPerson, withoutRepeats } from '../../src/doctor/findings.js';
import { loadCapture } from '../../src/doctor/load-capture.js';
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

describe('withoutRepeats: a detail that only repeats what it follows is not printed', () => {
  it('a verbose CME answer and its meaning (the same words) are said once; a numeric code keeps its meaning', () => {
    expect(withoutRepeats('AT+COPS was rejected (+CME ERROR: no network service: no network service)')).toBe('AT+COPS was rejected (+CME ERROR: no network service)');
    expect(withoutRepeats('AT+CPIN? → +CME ERROR: SIM not inserted (SIM not inserted)')).toBe('AT+CPIN? → +CME ERROR: SIM not inserted');
    expect(withoutRepeats('no network service: No Network Service')).toBe('no network service');
    expect(withoutRepeats('AT+COPS was rejected (+CME ERROR: 30: no network service)')).toBe('AT+COPS was rejected (+CME ERROR: 30: no network service)');
    expect(withoutRepeats('joining Wi-Fi "a" failed: +CWJAP:1 (timeout)')).toBe('joining Wi-Fi "a" failed: +CWJAP:1 (timeout)');
    expect(withoutRepeats('busy: busy p...')).toBe('busy: busy p...');
  });

  it('doctor --log on a real log with a verbose +CME ERROR prints its words once', async () => {
    const capture = await loadCapture(new URL('../../fixtures/logs/a76xx_108_a7670e-code-fence-then-cme-sim-not-inserted.txt', import.meta.url).pathname);
    const { findings } = await analyzeEvents(capture.events, { perLine: capture.perLine, ...(capture.profile ? { profile: capture.profile } : {}) });
    const rejected = findings.find((f) => f.id === 'command-rejected');
    expect(rejected?.summary).toBe('AT+COPS was rejected (+CME ERROR: no network service)');
  });
});
