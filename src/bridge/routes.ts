import type { QoS } from 'mqtt-packet';
import { AtbridgeError, ExitCode } from '../errors.js';
import { filterProblem, topicMatches } from '../mqtt/topic.js';

export type Direction = 'out' | 'in' | 'both';

/**
 * One `topic` line of a mosquitto.conf bridge section:
 * `topic PATTERN [out|in|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]`, defaults `out 0` and no prefixes.
 * `""` stands for an empty pattern or prefix, as in mosquitto.conf.
 */
export interface Route {
  pattern: string;
  direction: Direction;
  qos: QoS;
  localPrefix: string;
  remotePrefix: string;
  /** The line as written, for logs and errors. */
  text: string;
}

export function parseTopicLine(text: string): Route {
  const tokens = text.trim().split(/\s+/).filter((t) => t.length > 0).map((t) => (t === '""' ? '' : t));
  const bad = (why: string) =>
    new AtbridgeError('bad-topic-line', `bad topic line "${text}": ${why}`, {
      exitCode: ExitCode.usage,
      fix: 'write it as in mosquitto.conf: PATTERN [out|in|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]], "" for empty',
    });
  if (tokens.length === 0 || tokens.length === 4 || tokens.length > 5) throw bad('expected 1, 2, 3 or 5 words');
  const [pattern = '', direction = 'out', qosText = '0', localPrefix = '', remotePrefix = ''] = tokens;
  if (direction !== 'out' && direction !== 'in' && direction !== 'both') throw bad(`direction must be out, in or both, not "${direction}"`);
  if (qosText !== '0' && qosText !== '1' && qosText !== '2') throw bad(`QoS must be 0, 1 or 2, not "${qosText}"`);
  if (pattern === '' && (localPrefix === '' || remotePrefix === '')) throw bad('an empty pattern needs both prefixes (they are then the whole topics)');
  for (const prefix of [localPrefix, remotePrefix]) {
    if (/[+#]/.test(prefix)) throw bad(`prefix "${prefix}" must not hold wildcards`);
  }
  const route: Route = { pattern, direction, qos: Number(qosText) as QoS, localPrefix, remotePrefix, text: text.trim() };
  for (const filter of [localFilter(route), remoteFilter(route)]) {
    const problem = filterProblem(filter);
    if (problem) throw bad(problem);
  }
  return route;
}

export function localFilter(route: Route): string {
  return route.localPrefix + route.pattern;
}

export function remoteFilter(route: Route): string {
  return route.remotePrefix + route.pattern;
}

/** Does this route carry a message seen on the local broker out to the remote one? */
export function carriesOut(route: Route, localTopic: string): boolean {
  return route.direction !== 'in' && localTopic.startsWith(route.localPrefix) && topicMatches(localFilter(route), localTopic);
}

export function carriesIn(route: Route, remoteTopic: string): boolean {
  return route.direction !== 'out' && remoteTopic.startsWith(route.remotePrefix) && topicMatches(remoteFilter(route), remoteTopic);
}

export function toRemoteTopic(route: Route, localTopic: string): string {
  return route.remotePrefix + localTopic.slice(route.localPrefix.length);
}

export function toLocalTopic(route: Route, remoteTopic: string): string {
  return route.localPrefix + remoteTopic.slice(route.remotePrefix.length);
}

/** Same subscription on both sides (used to diff the topic list on SIGHUP). */
export function routeKey(route: Route): string {
  return JSON.stringify([route.pattern, route.direction, route.qos, route.localPrefix, route.remotePrefix]);
}
