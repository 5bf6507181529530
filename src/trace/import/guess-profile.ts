import { guessFamily } from '../../decode/family.js';
import type { ProfileGuess } from './types.js';

/**
 * Which shipped profile a capture most likely belongs to, by the one family guesser
 * (src/decode/family.ts). Each text is tried in turn (the traffic first, then the whole file with
 * its prose) until one tells a family; ESP-AT when none does.
 */
export function guessProfile(...texts: (Buffer | string)[]): ProfileGuess {
  for (const head of texts) {
    const text = typeof head === 'string' ? head : head.toString('latin1');
    const guess = guessFamily(text);
    // A cellular family with no profile of its own (or only words every cellular family says):
    // the profile whose command set most cellular firmwares share.
    if (guess) return guess.profile ?? (guess.kind === 'cellular' ? 'sim7600' : 'esp-at');
  }
  return 'esp-at';
}
