import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeHits, familyWords, stemOf, tsFiles } from './family-words.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('family words stay in profile data', () => {
  it('scan', () => {
    const words = familyWords();
    console.log([...words.keys()].sort().join(' '));
    const files = tsFiles(join(ROOT, 'src')).filter((f) => !/\/src\/emulator\/(a76xx|esp-at|esp8266-at1|quectel|sim7080|sim7600|sim800)\.ts$/.test(f));
    const hits = files.flatMap((f) => codeHits(f, ROOT, new Set(words.keys())));
    console.log(hits.map((h) => `${h.file}:${h.line} ${h.word}  ${h.text}`).join('\n'));
    expect(stemOf('AT+CIPOPEN=0')).toBe('CIPOPEN');
  });
});
