import { listProfileIds, loadProfile } from './load.js';
import { linePattern } from './module-profile.js';

/**
 * Words of every shipped profile at once, for readers that see a trace before its family is
 * known (the doctor offline, decode): the URCs of an event, the lines that end data mode.
 */
const urcCache = new Map<string, RegExp[]>();

/** Every shipped profile's URC patterns of these events, compiled once. */
export function shippedUrcPatterns(events: readonly string[]): RegExp[] {
  const key = events.join(',');
  const cached = urcCache.get(key);
  if (cached) return cached;
  const seen = new Set<string>();
  for (const id of listProfileIds()) for (const u of loadProfile(id).urcs) if (events.includes(u.event)) seen.add(u.pattern);
  const out = [...seen].map((p) => linePattern(p));
  urcCache.set(key, out);
  return out;
}

/** True when any shipped profile's URC of these events matches the line. */
export function isShippedUrc(line: string, events: readonly string[]): boolean {
  return shippedUrcPatterns(events).some((re) => re.test(line));
}

let closed: Set<string> | undefined;

/** Lines that end data mode from the module's side (the peer closed), over every shipped profile. */
export function shippedClosedLines(): ReadonlySet<string> {
  closed ??= new Set(listProfileIds().flatMap((id) => loadProfile(id).socket.transparent.closedLines));
  return closed;
}
