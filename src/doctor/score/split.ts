import { createHash } from 'node:crypto';

export type Split = 'train' | 'test';

/** Share of the corpus in the test split (percent). */
export const TEST_PERCENT = 40;

/**
 * The fixed split rule, decided before any rule was written: the first four bytes of the SHA-256 of
 * the file's base name, as an unsigned number, modulo 100; below 40 is the test split.
 */
export function splitOf(fileName: string): Split {
  const digest = createHash('sha256').update(fileName, 'utf8').digest();
  return digest.readUInt32BE(0) % 100 < TEST_PERCENT ? 'test' : 'train';
}
