import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeHits, familyWords, stemOf, tsFiles } from './family-words.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A family's own emulator dialect is the one place TypeScript may name its commands. */
const DIALECT_FILE = /^src\/emulator\/(?:a76xx|esp-at|esp8266-at1|quectel|sim7080|sim7600|sim800)\.ts$/;

/**
 * Files not yet converted, with the words they still name and why (work left). Empty: every file
 * is converted; the list may only shrink, and a stale entry fails the test too.
 */
const PENDING: Record<string, { words: string[]; why: string }> = {};

describe('no TypeScript outside src/emulator/<family>.ts names a family\'s commands', () => {
  const words = familyWords();
  const files = tsFiles(join(ROOT, 'src')).filter((f) => !DIALECT_FILE.test(f.slice(ROOT.length + 1)));
  const hits = files.flatMap((f) => codeHits(f, ROOT, new Set(words.keys())));

  it('reads the family words off the shipped profiles (less the 27.007 / V.250 base)', () => {
    expect(stemOf('AT+CIPOPEN={link},"TCP","{host}",{port}')).toBe('CIPOPEN');
    expect(stemOf('+QIURC')).toBe('QIURC');
    expect(stemOf('*ATREADY')).toBe('ATREADY');
    expect(words.has('QIOPEN')).toBe(true);
    expect(words.has('CASWITCH')).toBe(true);
    expect(words.has('CWJAP_CUR')).toBe(true);
    // The base's words are nobody's family: CPIN, CREG, CSQ, CGDCONT.
    for (const base of ['CPIN', 'CREG', 'CSQ', 'CGDCONT', 'CFUN']) expect(words.has(base)).toBe(false);
  });

  it('finds a family word in code, not in comments', () => {
    const sample = codeHits(join(ROOT, 'test', 'families', 'family-words.sample.ts'), ROOT, new Set(['CIPOPEN', 'QISEND']));
    expect(sample.map((h) => `${h.line} ${h.word}`)).toEqual(['6 CIPOPEN', '8 QISEND', '10 QISEND']);
  });

  it('src/ outside the family dialects names none (but the pending list)', () => {
    const unexpected = hits.filter((h) => !PENDING[h.file]?.words.includes(h.word));
    expect(unexpected.map((h) => `${h.file}:${h.line} names ${h.word} (${words.get(h.word)!.join(', ')}): ${h.text}`)).toEqual([]);
  });

  it('the pending list only names what is still there', () => {
    const stale = Object.entries(PENDING).flatMap(([file, p]) => p.words.filter((w) => !hits.some((h) => h.file === file && h.word === w)).map((w) => `${file}: ${w}`));
    expect(stale).toEqual([]);
  });
});
