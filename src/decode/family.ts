import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { getProfile, listProfileIds, loadProfile, ModuleProfile, PROFILE_DIR, type Profile } from '../profile/index.js';
import { readingProfile } from '../profile/load.js';
import type { DetectT } from '../profile/schema.js';

const FamiliesSchema = z.object({
  families: z.array(z.object({
    id: z.string(),
    name: z.string(),
    profile: z.string().optional(),
    banner: z.array(z.string()).optional(),
    markers: z.array(z.string()).optional(),
  })),
});

/** One word of a family's dialect: a command name, a URC or a final result its profile lists. */
interface Token {
  /** What a person is shown: `+QIURC`, `APP RDY`. */
  show: string;
  re: RegExp;
}

/** A family the guesser can answer: a shipped profile, or a family named only in families.json. */
interface Candidate {
  id: string;
  name: string;
  /** The shipped profile it is read with; undefined: the 3GPP base with the family's start-up lines. */
  profile: string | undefined;
  kind: 'cellular' | 'wifi';
  /** The profile this one extends (its ancestors), for ties: the base wins until a word of the child's own is seen. */
  ancestors: string[];
  detect: readonly DetectT[];
  /** Words that name the family (model and vendor names, in traffic or prose): families.json. */
  markers: Token[];
  /** Keys into the shared token table: this family's dialect. */
  dialect: Set<string>;
  banner?: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const COMMAND_NAME = /AT([+&*^$#%][A-Z][A-Z0-9_]*)/gi;

/** The dialect of a profile: the names of its commands (roles and identification), its URC patterns, its final result patterns. */
function dialectOf(p: Profile, tokens: Map<string, Token>): Set<string> {
  const keys = new Set<string>();
  const add = (key: string, make: () => Token) => {
    if (!tokens.has(key)) tokens.set(key, make());
    keys.add(key);
  };
  for (const m of JSON.stringify([p.commands, p.identify.commands]).matchAll(COMMAND_NAME)) {
    const name = m[1]!.toUpperCase();
    // `+QIACT` in `AT+QIACT=1`, `+QIACT: 1,1,…`; `_CUR` names stay apart from the bare one.
    add(`cmd ${name}`, () => ({ show: name, re: new RegExp(`${escape(name)}(?![A-Z0-9_])`, 'gi') }));
  }
  for (const u of p.urcs) add(`urc ${u.pattern}`, () => ({ show: u.name, re: new RegExp(u.pattern, 'gm') }));
  for (const r of p.results) add(`res ${r.pattern}`, () => ({ show: r.pattern.replace(/^\^|\$$/g, '').replace(/\(\?<\w+>.*$/, ''), re: new RegExp(r.pattern, 'gm') }));
  return keys;
}

function parentOf(id: string): string | undefined {
  try {
    const raw = JSON.parse(readFileSync(join(PROFILE_DIR, `${id}.json`), 'utf8')) as { extends?: unknown };
    return typeof raw.extends === 'string' ? raw.extends : undefined;
  } catch {
    return undefined;
  }
}

const TOKENS = new Map<string, Token>();

/** A reading profile on the 3GPP base: a family's start-up lines, a plain socket, no commands of its own. */
function baseReading(id: string, name: string, banner: readonly string[], detect: readonly string[]): Profile {
  const quoted = banner.map((l) => `^${escape(l)}$`);
  return readingProfile({
    extends: '3gpp',
    id,
    name,
    banner: { lines: banner, readyPattern: quoted[0]!, rebootPatterns: quoted },
    socket: { link: 0, maxSend: 1500, recvModes: ['push'], maxRead: 1500, transparent: { closedLines: ['CLOSED', 'NO CARRIER'] } },
    identify: { detect },
  }, `families.json#${id}`);
}

/**
 * Every family the guesser can answer, from profile data: each shipped profile (its identify
 * `detect` lines and the words of its dialect), with the marker words of families.json, plus the
 * families there that have no profile of their own (read with the 3GPP base).
 */
const CANDIDATES: Candidate[] = (() => {
  const listed = FamiliesSchema.parse(JSON.parse(readFileSync(join(PROFILE_DIR, 'identify', 'families.json'), 'utf8'))).families;
  const markersOf = (words: readonly string[] | undefined) => (words ?? []).map((m) => ({ show: m, re: new RegExp(m, 'gim') }));
  const out: Candidate[] = [];
  for (const id of listProfileIds()) {
    const p = loadProfile(id);
    const entry = listed.find((f) => (f.profile ?? f.id) === id);
    const ancestors: string[] = [];
    for (let up = parentOf(id); up !== undefined; up = parentOf(up)) ancestors.push(up);
    out.push({ id, name: entry?.name ?? p.name, profile: id, kind: p.family, ancestors, detect: p.identify.detect, markers: markersOf(entry?.markers), dialect: dialectOf(p, TOKENS) });
  }
  const baseDialect = dialectOf(baseReading('3gpp-words', '3GPP words', ['RDY'], ['^RDY$']), TOKENS);
  for (const f of listed.filter((l) => l.profile === undefined && !out.some((c) => c.id === l.id))) {
    out.push({ id: f.id, name: f.name, profile: undefined, kind: 'cellular', ancestors: ['3gpp'], detect: [], markers: markersOf(f.markers), dialect: new Set(baseDialect), ...(f.banner ? { banner: f.banner } : {}) });
  }
  return out;
})();

/** How many families say each token: a word all cellular families say tells them apart from Wi-Fi, not from each other. */
const SAYERS = new Map<string, number>();
for (const c of CANDIDATES) for (const key of c.dialect) SAYERS.set(key, (SAYERS.get(key) ?? 0) + 1);

export interface FamilyGuess {
  id: string;
  name: string;
  /** The profile the log is read with: the family's own, or undefined for the 3GPP base. */
  profile: string | undefined;
  kind: 'cellular' | 'wifi';
  /** The guess's score (detect lines, marker words, dialect words weighted by how few families say them). */
  hits: number;
  /** Up to five pieces of evidence, the most telling first: why this family. */
  why: string[];
}

/** The 3GPP TS 27.007 base: a cellular module whose words every cellular family says. */
const BASE: Candidate = { id: '3gpp', name: '3GPP TS 27.007 cellular module (family not told)', profile: undefined, kind: 'cellular', ancestors: [], detect: [], markers: [], dialect: new Set() };

/**
 * The module family a log talks to, from its text (traffic and the post's words): each family
 * scores its identify `detect` lines (their scores), the marker words that name it (one each) and
 * the words of its dialect (each occurrence worth 1 / the number of families that say it). The best
 * wins; a tie goes to the profile the others extend, or to the 3GPP base when only words every
 * cellular family says were seen. Undefined when nothing any family says occurs.
 */
export function guessFamily(text: string): FamilyGuess | undefined {
  const lines = text.split(/\r?\n|\r/);
  const counts = new Map<string, number>();
  for (const [key, token] of TOKENS) {
    token.re.lastIndex = 0;
    const n = [...text.matchAll(token.re)].length;
    if (n > 0) counts.set(key, Math.min(n, 10));
  }
  const scored = CANDIDATES.map((c) => {
    const evidence: { show: string; n: number; worth: number }[] = [];
    for (const d of c.detect) {
      const { pattern, score } = typeof d === 'string' ? { pattern: d, score: 1 } : d;
      const re = new RegExp(pattern);
      const line = lines.find((l) => re.test(l.trim()));
      if (line !== undefined) evidence.push({ show: line.trim().slice(0, 40), n: 1, worth: score });
    }
    for (const m of c.markers) {
      m.re.lastIndex = 0;
      const seen = new Map<string, number>();
      for (const hit of text.matchAll(m.re)) seen.set(hit[0].trim(), (seen.get(hit[0].trim()) ?? 0) + 1);
      for (const [word, n] of seen) evidence.push({ show: word, n, worth: n });
    }
    for (const key of c.dialect) {
      const n = counts.get(key);
      if (n !== undefined) evidence.push({ show: TOKENS.get(key)!.show, n, worth: n / SAYERS.get(key)! });
    }
    const score = Math.round(evidence.reduce((s, e) => s + e.worth, 0) * 1000) / 1000;
    return { c, score, evidence };
  });
  const best = Math.max(...scored.map((s) => s.score));
  if (best <= 0) return undefined;
  const top = scored.filter((s) => s.score === best);
  let winner = top.length === 1 ? top[0] : top.find((t) => top.every((o) => o === t || o.c.ancestors.includes(t.c.id)));
  if (!winner) {
    if (!top.every((t) => t.c.kind === 'cellular')) return undefined;
    winner = { c: BASE, score: best, evidence: top[0]!.evidence };
  }
  // One entry per word (a model line can be both a detect line and a marker), the most telling
  // first; words every family says (OK, ERROR) tell nothing.
  const merged = new Map<string, { show: string; n: number; worth: number }>();
  for (const e of winner.evidence) {
    if (e.worth * CANDIDATES.length <= e.n) continue;
    const had = merged.get(e.show);
    merged.set(e.show, had ? { show: e.show, n: Math.max(had.n, e.n), worth: had.worth + e.worth } : { ...e });
  }
  const why = [...merged.values()]
    .sort((a, b) => b.worth / b.n - a.worth / a.n || b.n - a.n)
    .slice(0, 5)
    .map((e) => (e.n > 1 ? `${e.show} ×${e.n}` : e.show));
  return { id: winner.c.id, name: winner.c.name, profile: winner.c.profile, kind: winner.c.kind, hits: winner.score, why };
}

const cache = new Map<string, ModuleProfile>();

/** The profile to read a log of this family with (the 3GPP base with the family's start-up lines when it has none). */
export function profileForFamily(guess: FamilyGuess): ModuleProfile {
  if (guess.profile) return getProfile(guess.profile);
  const cached = cache.get(guess.id);
  if (cached) return cached;
  const family = CANDIDATES.find((f) => f.id === guess.id) ?? BASE;
  const banner = family.banner && family.banner.length > 0 ? family.banner : ['RDY'];
  const detect = family.markers.length > 0 ? family.markers.map((m) => m.show) : ['^RDY$'];
  const profile = new ModuleProfile(baseReading(`3gpp-${family.id}`.replace(/^3gpp-3gpp$/, '3gpp-base'), `${family.name}, read with the 3GPP TS 27.007 base`, banner, detect));
  cache.set(guess.id, profile);
  return profile;
}

/** `SIMCom A76xx / SIM767x (read with a76xx): *ATREADY ×2, A7670` for a person. */
export function describeGuess(guess: FamilyGuess | undefined, profileId: string): string {
  if (!guess) return `no family marker found, read with ${profileId}`;
  const reading = guess.profile ? `read with the ${guess.profile} profile` : 'no profile of its own: read with the 3GPP TS 27.007 base';
  return `family ${guess.name} guessed from ${guess.why.join(', ')}; ${reading}`;
}
