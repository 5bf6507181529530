import type { ClassifiedEvent } from '../classify-events.js';

/** Small readers shared by the rules. */
export const trimmed = (e: ClassifiedEvent): string => e.text.trim();

export const isRx = (e: ClassifiedEvent): boolean => e.dir === 'rx';

/** More than a quarter of the characters are control or high bytes: a wrong rate or a bad line. */
export function isGarbage(text: string): boolean {
  const t = text.replace(/[\r\n\t]/g, '');
  if (t.length === 0 || isUtf8Prose(t)) return false;
  let bad = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) bad++;
  }
  return bad * 4 >= t.length;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes (as latin1) that are well-formed UTF-8 with several multi-byte characters and few '?'s:
 * a person's words pasted with the log (a Chinese comment), not line noise.
 */
function isUtf8Prose(latin1: string): boolean {
  // Words never carry NULs or other control bytes; a wrong rate reads as exactly those.
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(latin1)) return false;
  let high = 0;
  for (let i = 0; i < latin1.length; i++) if (latin1.charCodeAt(i) >= 0x80) high++;
  if (high < 2) return false;
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return false;
  }
  // Noise a terminal decoded as UTF-8 when it was pasted shows replacement marks and '?'s, or
  // (decoded as Latin-1, then pasted) a run of symbols like ÿ Ü º; words are not made of those.
  // U+2E2E (⸮) is what the Arduino IDE's serial monitor prints for a byte it could not decode.
  const marks = text.match(/[?\uFFFD\u2E2E\u0080-\u009f]/g)?.length ?? 0;
  const latin1Symbols = text.match(/[\u00a0-\u00ff]/g)?.length ?? 0;
  return marks * 10 < text.length && latin1Symbols * 4 < text.length;
}

export function finalOutcome(e: ClassifiedEvent | undefined): 'ok' | 'error' | 'connect' | 'no-carrier' | undefined {
  return e?.classified?.final?.outcome;
}

/** The CME/CMS code or text of a final, e.g. `10` or `SIM not inserted`. */
export function finalCode(e: ClassifiedEvent | undefined): string | undefined {
  return e?.classified?.final?.code?.trim();
}

/** Busy answers, including 0.9-era spellings the profile may not list (`busy inet…`). */
export function isBusyLine(e: ClassifiedEvent): boolean {
  return e.dir === 'rx' && (e.kind === 'busy' || /^(?:>\s*)?busy\b/i.test(trimmed(e)));
}
