import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupsOf, linePattern } from '../src/profile/module-profile.js';

const profiles = readdirSync('firmware-profiles').filter((f) => f.endsWith('.json'));
const patterns = profiles.flatMap((f) => {
  const data = JSON.parse(readFileSync(`firmware-profiles/${f}`, 'utf8')) as { urcs?: { pattern: string }[]; results?: { pattern: string }[]; binaryBlocks?: { pattern: string }[] };
  return [...(data.urcs ?? []), ...(data.results ?? []), ...(data.binaryBlocks ?? [])].map((p) => p.pattern);
});
/** Every line of the pasted-log corpus and the JSONL captures' text. */
const lines = [
  ...readdirSync('fixtures/logs').filter((f) => f.endsWith('.txt')).map((f) => `fixtures/logs/${f}`),
  ...readdirSync('fixtures/captures').filter((f) => f.endsWith('.jsonl')).map((f) => `fixtures/captures/${f}`),
].flatMap((f) => readFileSync(f, 'latin1').split(/\\r\\n|\r?\n|"/)).map((l) => l.trim());

/** What the profile's matchers returned before: a spread of the groups object. */
function same(out: Record<string, string>, m: RegExpExecArray): void {
  const spread = { ...m.groups };
  expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  expect(Object.keys(out)).toEqual(Object.keys(spread));
  for (const k of Object.keys(spread)) expect(out[k]).toBe(spread[k]);
  expect(JSON.stringify(out)).toBe(JSON.stringify(spread));
}

describe('groupsOf (a match\'s named groups, as the matchers return them)', () => {
  it('is the spread of the groups for every profile pattern on every corpus line it matches', () => {
    let matched = 0;
    for (const source of patterns) {
      const regex = linePattern(source);
      for (const line of lines) {
        const m = regex.exec(line);
        if (!m) continue;
        matched++;
        same(groupsOf(regex, m), m);
      }
    }
    expect(matched).toBeGreaterThan(200);
  });

  it('keeps a group the match left out (undefined, in its place), whichever match came first', () => {
    const regex = /^\+X: (?<a>\d+)(?:,(?<b>\d+))?,(?<c>\w+)$/;
    for (const line of ['+X: 1,2,z', '+X: 1,z', '+X: 3,4,y']) {
      const m = regex.exec(line)!;
      same(groupsOf(regex, m), m);
    }
    const other = /^(?<b>.)(?<a>.)$/;
    const m = other.exec('xy')!;
    expect(Object.keys(groupsOf(other, m))).toEqual(['b', 'a']);
    expect(groupsOf(/^ok$/, /^ok$/.exec('ok')!)).toEqual({});
  });

  it('a group named __proto__ stays an own key', () => {
    const regex = /^(?<__proto__>\d)(?<x>\d)$/;
    const m = regex.exec('12')!;
    for (let i = 0; i < 2; i++) same(groupsOf(regex, m), m);
  });
});
