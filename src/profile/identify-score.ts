import type { DetectT } from './schema.js';

/** A score at which one family is named beyond doubt (its model line). */
export const DECISIVE_SCORE = 10;

/** Sum of the scores of the detect patterns that some line matches (each pattern counts once). */
export function detectScore(detect: readonly DetectT[], lines: readonly string[]): number {
  let score = 0;
  for (const d of detect) {
    const { pattern, score: worth } = typeof d === 'string' ? { pattern: d, score: 1 } : d;
    const re = new RegExp(pattern);
    if (lines.some((l) => re.test(l))) score += worth;
  }
  return score;
}

/** The first value of a named group over patterns (in order) and lines. */
export function firstGroup(patterns: readonly string[], lines: readonly string[], group: string): string | undefined {
  for (const p of patterns) {
    const re = new RegExp(p);
    for (const line of lines) {
      const value = re.exec(line)?.groups?.[group];
      if (value) return value.trim();
    }
  }
  return undefined;
}

/** Every profile's score for these lines, best first (ids with score 0 left out). */
export function rankProfiles<T extends { id: string; data: { identify: { detect: readonly DetectT[] } } }>(profiles: readonly T[], lines: readonly string[]): { profile: T; score: number }[] {
  return profiles
    .map((profile) => ({ profile, score: detectScore(profile.data.identify.detect, lines) }))
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score);
}
