import type { ClassifiedLine } from './classify.js';
import { STRAY } from './framer.js';

/**
 * Why a line from the module counts as damaged on the wire. MQTT carried through the module has
 * no checksum, so the AT lines around it are the only witness of a noisy line: bytes a module
 * never sends (parity-like damage: the top bit set, stray control codes), an echo of the command
 * with a character or two changed, a final result one letter off, or a line that matches nothing;
 * `stray`: a lone byte where a line end was (the line it belonged to may be intact); `prompt`: the
 * data prompt one bit off (taken as the prompt: the module waits for the data either way).
 */
export type GarbleReason = 'bad-byte' | 'echo' | 'final' | 'unmatched' | 'stray' | 'prompt';

/** Result words of both families a damaged final is usually one letter off from. */
const FINAL_WORDS = ['OK', 'ERROR', 'SEND OK', 'SEND FAIL', 'CLOSED', 'READY'];

/** The line with a stray terminator byte taken off its start or its end (none when there is none). */
export function withoutStray(text: string): string[] {
  const out: string[] = [];
  if (text.length > 1 && STRAY.has(text.charCodeAt(0))) out.push(text.slice(1));
  if (text.length > 1 && STRAY.has(text.charCodeAt(text.length - 1))) out.push(text.slice(0, -1));
  return out;
}

/** How module lines look: an optional +*^$# sign, a word in capitals, then anything after a colon or comma. */
const WELL_FORMED = /^[+*^$#]?[A-Z][A-Z0-9_ .-]*(?:[:,].*)?$/;

/** Says whether and why a classified line looks damaged; `command` is the command in flight, if any. */
export function garbleReason(line: ClassifiedLine, command: { text: string; echoPending: boolean } | undefined, knownNoise: boolean): GarbleReason | undefined {
  const text = line.text.replace(/[\r\n]+$/, '');
  const trimmed = text.trim();
  if (trimmed === '' || line.kind === 'final' || line.kind === 'busy') return undefined;
  // The echo first: a damaged echo (bad byte or not) says nothing about the answer still to come.
  // (One still shaped like a command is taken for the echo by the classifier: it is counted here.)
  const upper = trimmed.toUpperCase();
  const sent = command?.text.toUpperCase();
  if (command?.echoPending && sent !== undefined && (nearlySame(upper, sent, 2) || withoutStray(upper).includes(sent))) return 'echo';
  if (line.kind === 'echo') return undefined;
  // A flipped bit in the CR or LF around a line leaves that byte alone on a line of its own.
  if (trimmed.length === 1 && STRAY.has(trimmed.charCodeAt(0))) return 'stray';
  // A final one letter off, or whole with a stray line-end byte stuck to it: before the bad-byte
  // test, so that the command waiting for it learns its answer went by.
  // Case counts: a flipped bit 5 turns `OK` into `oK`, which no module sends.
  if (trimmed.length <= 11 && FINAL_WORDS.some((w) => trimmed !== w && (nearlySame(trimmed, w, 1) || withoutStray(trimmed).includes(w)))) return 'final';
  if (hasBadByte(text)) return 'bad-byte';
  // A line of no known kind is damage only when it lacks the shape of a module's line ("+CPSI: …",
  // "SMS DONE"): a URC the profile does not list is no sign of a noisy wire.
  if (line.kind === 'noise' && !knownNoise && !WELL_FORMED.test(trimmed)) return 'unmatched';
  return undefined;
}

/**
 * True when `text` looks like the URC `pattern` waits for, damaged: its literal head (`+CIPSEND`)
 * one or two characters off, or the head intact and the rest not matching.
 */
export function looksLikeDamagedUrc(text: string, pattern: RegExp): boolean {
  const head = /^\^?((?:\\\+|[A-Za-z_ ])+)/.exec(pattern.source)?.[1]?.replace(/\\/g, '');
  if (!head || head.length < 3) return false;
  const trimmed = text.trim();
  if (pattern.test(trimmed)) return false;
  return [trimmed, ...withoutStray(trimmed)].some((candidate) => {
    const start = candidate.slice(0, head.length);
    // Case counts: a flipped bit 5 makes `+CIPSENd`, which no module sends.
    return start === head || nearlySame(start, head, 2);
  });
}

function hasBadByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return true;
  }
  return false;
}

/** Same length and at most `max` characters differ (a flipped bit changes a character, never the length). */
function nearlySame(a: string, b: string, max: number): boolean {
  if (a.length !== b.length || a === b) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && ++diff > max) return false;
  return true;
}

export interface CorruptionFigures {
  /** Lines heard since the channel opened. */
  lines: number;
  /** Of which damaged. */
  garbled: number;
  /** garbled / lines over the recent window (the last WINDOW lines). */
  recentRate: number;
  byReason: Record<GarbleReason, number>;
}

const WINDOW = 200;
/** Sustained: at least this many damaged lines within the window, and this share of it. */
const SUSTAINED_COUNT = 3;
const SUSTAINED_RATE = 0.01;

/** Counts lines and damaged lines, overall and over a sliding window of the last 200 lines. */
export class CorruptionMeter {
  private lines = 0;
  private garbled = 0;
  private readonly byReason: Record<GarbleReason, number> = { 'bad-byte': 0, echo: 0, final: 0, unmatched: 0, stray: 0, prompt: 0 };
  /** 1 for a damaged line, 0 for a clean one, newest last. */
  private readonly window: number[] = [];
  private windowGarbled = 0;

  /** Counts a line; returns true when the recent window now shows sustained corruption. */
  count(reason: GarbleReason | undefined): boolean {
    this.lines++;
    const bad = reason === undefined ? 0 : 1;
    if (reason !== undefined) {
      this.garbled++;
      this.byReason[reason]++;
    }
    this.window.push(bad);
    this.windowGarbled += bad;
    if (this.window.length > WINDOW) this.windowGarbled -= this.window.shift()!;
    return bad === 1 && this.sustained;
  }

  /** Damaged lines among the recent window's. */
  get recentDamage(): number {
    return this.windowGarbled;
  }

  get sustained(): boolean {
    return this.windowGarbled >= SUSTAINED_COUNT && this.windowGarbled / this.window.length >= SUSTAINED_RATE;
  }

  /** Starts the window afresh (after a baud change: the old rate's damage says nothing of the new). */
  resetWindow(): void {
    this.window.length = 0;
    this.windowGarbled = 0;
  }

  figures(): CorruptionFigures {
    return {
      lines: this.lines,
      garbled: this.garbled,
      recentRate: this.window.length === 0 ? 0 : Math.round((this.windowGarbled / this.window.length) * 10_000) / 10_000,
      byReason: { ...this.byReason },
    };
  }
}
