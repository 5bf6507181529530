import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { getProfile, ModuleProfile, PROFILE_DIR } from '../profile/index.js';
import { readingProfile } from '../profile/load.js';

const FamiliesSchema = z.object({
  families: z.array(z.object({
    id: z.string(),
    name: z.string(),
    profile: z.string().optional(),
    readWith: z.string().optional(),
    banner: z.array(z.string()).optional(),
    markers: z.array(z.string()),
  })),
});

/** Family markers: data in firmware-profiles/identify/families.json. */
const FAMILIES = FamiliesSchema.parse(JSON.parse(readFileSync(join(PROFILE_DIR, 'identify', 'families.json'), 'utf8'))).families.map((f) => ({
  ...f,
  res: f.markers.map((m) => new RegExp(m, 'gim')),
}));

export interface FamilyGuess {
  id: string;
  name: string;
  /** The profile the log is read with: the family's own, one it shares commands with, or undefined for the 3GPP base. */
  profile: string | undefined;
  hits: number;
  /** Up to five marker texts found, most frequent first: why this family. */
  why: string[];
}

/**
 * The module family a log talks to, from its text: the family whose markers occur most. Undefined
 * when no marker occurs at all.
 */
export function guessFamily(text: string): FamilyGuess | undefined {
  let best: FamilyGuess | undefined;
  for (const f of FAMILIES) {
    const seen = new Map<string, number>();
    let hits = 0;
    for (const re of f.res) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        hits++;
        const word = m[0].trim();
        seen.set(word, (seen.get(word) ?? 0) + 1);
      }
    }
    if (hits > (best?.hits ?? 0)) {
      const why = [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([w, n]) => (n > 1 ? `${w} ×${n}` : w));
      best = { id: f.id, name: f.name, profile: f.profile ?? f.readWith, hits, why };
    }
  }
  return best;
}

const cache = new Map<string, ModuleProfile>();

/** The profile to read a log of this family with (the 3GPP base with the family's start-up lines when it has none). */
export function profileForFamily(guess: FamilyGuess): ModuleProfile {
  if (guess.profile) return getProfile(guess.profile);
  const cached = cache.get(guess.id);
  if (cached) return cached;
  const family = FAMILIES.find((f) => f.id === guess.id)!;
  const banner = family.banner && family.banner.length > 0 ? family.banner : ['RDY'];
  const quoted = banner.map((l) => `^${l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const profile = new ModuleProfile(readingProfile({
    extends: '3gpp',
    id: `3gpp-${family.id}`,
    name: `${family.name}, read with the 3GPP TS 27.007 base`,
    banner: { lines: banner, readyPattern: quoted[0]!, rebootPatterns: quoted },
    socket: { link: 0, maxSend: 1500, recvModes: ['push'], maxRead: 1500, transparent: { closedLines: ['CLOSED', 'NO CARRIER'] } },
    identify: { detect: family.markers },
  }, `families.json#${family.id}`));
  cache.set(guess.id, profile);
  return profile;
}

/** `A76xx / SIM767x (read with sim7600): *ATREADY ×2, A7670` for a person. */
export function describeGuess(guess: FamilyGuess | undefined, profileId: string): string {
  if (!guess) return `no family marker found, read with ${profileId}`;
  const reading = guess.profile ? `read with the ${guess.profile} profile` : 'no profile of its own: read with the 3GPP TS 27.007 base';
  return `family ${guess.name} guessed from ${guess.why.join(', ')}; ${reading}`;
}
