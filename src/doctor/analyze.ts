import { guessFamily, profileForFamily } from '../decode/family.js';
import { getProfile, type ModuleProfile } from '../profile/index.js';
import type { TraceEvent } from '../trace/events.js';
import { EventClassifier } from './classify-events.js';
import { RuleEngine } from './engine.js';
import type { Finding } from './findings.js';
import { allRules } from './rules/index.js';

export interface AnalyzeOptions {
  /** Profile id, or undefined to guess it from the conversation. */
  profile?: string | undefined;
  /** Each event is one whole line (an imported transcript). */
  perLine?: boolean;
  /** A profile already made (a family read with the 3GPP base); wins over `profile`. */
  moduleProfile?: ModuleProfile;
}

export interface Analysis {
  profile: string;
  events: number;
  findings: Finding[];
}

const PEEK = 400;

/** The profile to read these events with, guessed from their text by the one family guesser (SIM7600 when nothing tells). */
export function guessProfile(events: readonly TraceEvent[]): ModuleProfile {
  const text = events.filter((e) => e.dir !== 'note').map((e) => e.data.toString('latin1')).join('\n');
  const guess = guessFamily(text);
  return guess ? profileForFamily(guess) : getProfile(DEFAULT_PROFILE);
}

/** What a capture with no word of any family is read with. */
const DEFAULT_PROFILE = 'sim7600';

/**
 * The doctor's offline path: trace events (a log, or what a live probe recorded) → classified
 * events → rules → findings. Streams: only the first few hundred events are held, to guess the profile.
 */
export async function analyzeEvents(source: AsyncIterable<TraceEvent> | Iterable<TraceEvent>, options: AnalyzeOptions = {}): Promise<Analysis> {
  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<TraceEvent>)[Symbol.iterator]()) as AsyncIterator<TraceEvent> | Iterator<TraceEvent>;
  const head: TraceEvent[] = [];
  let done = false;
  while (!options.profile && !options.moduleProfile && head.length < PEEK) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
  }
  const profile: ModuleProfile = options.moduleProfile ?? (options.profile !== undefined ? getProfile(options.profile) : guessProfile(head));
  const classifier = new EventClassifier(profile, { perLine: options.perLine ?? false });
  const engine = new RuleEngine(profile, allRules());
  let index = 0;
  const feed = (event: TraceEvent) => {
    for (const c of classifier.push(event, index)) engine.push(c);
    index++;
  };
  for (const event of head) feed(event);
  while (!done) {
    const next = await iterator.next();
    if (next.done) break;
    feed(next.value);
  }
  for (const c of classifier.flush()) engine.push(c);
  return { profile: profile.id, events: index, findings: engine.finish() };
}
