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
const CELLULAR = /\+C(?:PIN|SQ|E?G?REG|GDCONT|IPOPEN|IPSEND:|IPCLOSE|MQTT|MEE)|NETOPEN|\bRDY\b|SMS DONE|SIMCOM|\*ATREADY/g;
const WIFI = /\+CW(?:JAP|MODE|LAP)|CIPSTART|CIPMUX|\bready\b|busy p|WIFI (?:CONNECTED|GOT IP|DISCONNECT)|\+IPD,|\+MQTTCONN|AT\+GMR|SEND OK/g;

/** SIM7600 or ESP-AT, from the words in the first events. */
export function guessProfile(events: readonly TraceEvent[]): string {
  let cellular = 0;
  let wifi = 0;
  for (const e of events) {
    if (e.dir === 'note') continue;
    const text = e.data.toString('latin1');
    cellular += text.match(CELLULAR)?.length ?? 0;
    wifi += text.match(WIFI)?.length ?? 0;
  }
  return wifi > cellular ? 'esp-at' : 'sim7600';
}

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
  const profile: ModuleProfile = options.moduleProfile ?? getProfile(options.profile ?? guessProfile(head));
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
