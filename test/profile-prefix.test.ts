import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linePattern, literalPrefix } from '../src/profile/module-profile.js';

const profiles = readdirSync('firmware-profiles').filter((f) => f.endsWith('.json'));
const patterns = profiles.flatMap((f) => {
  const data = JSON.parse(readFileSync(`firmware-profiles/${f}`, 'utf8')) as { urcs?: { pattern: string }[]; results?: { pattern: string }[] };
  return [...(data.urcs ?? []), ...(data.results ?? [])].map((p) => p.pattern);
});
/** Every line of the pasted-log corpus, and each with its first characters cut. */
const lines = readdirSync('fixtures/logs')
  .filter((f) => f.endsWith('.txt'))
  .flatMap((f) => readFileSync(`fixtures/logs/${f}`, 'latin1').split(/\r?\n/))
  .flatMap((l) => [l.trim(), l.trim().slice(1)]);

describe('literalPrefix (which patterns a line is tried against)', () => {
  it('every line a profile pattern matches starts with its literal prefix', () => {
    expect(patterns.length).toBeGreaterThan(100);
    let matched = 0;
    for (const source of patterns) {
      const regex = linePattern(source);
      const prefix = literalPrefix(source);
      for (const line of lines) {
        if (!regex.test(line)) continue;
        matched++;
        expect(line.startsWith(prefix), `${source} matched ${JSON.stringify(line)}`).toBe(true);
      }
    }
    expect(matched).toBeGreaterThan(500);
  });

  it('stops at what is optional, repeated, a class, a group or an escape class; none for alternation', () => {
    expect(literalPrefix('^\\+CIPOPEN: ?(?<link>\\d+),(?<code>\\d+)$')).toBe('+CIPOPEN:');
    expect(literalPrefix('^\\+ ?CIPCLOSE: ?(?<link>\\d+)$')).toBe('+');
    expect(literalPrefix('^OK$')).toBe('OK');
    expect(literalPrefix('^AB+C')).toBe('A');
    expect(literalPrefix('^AB{2}')).toBe('A');
    expect(literalPrefix('^A[BC]')).toBe('A');
    expect(literalPrefix('^A\\dB')).toBe('A');
    expect(literalPrefix('^A.B')).toBe('A');
    expect(literalPrefix('^OK|^ERROR')).toBe('');
    expect(literalPrefix('^(?:OK|ERROR)$')).toBe('');
    expect(literalPrefix('^A(?:B|C)')).toBe('A');
    expect(literalPrefix('OK$')).toBe('');
    expect(literalPrefix('^busy inet…')).toBe('');
  });
});
