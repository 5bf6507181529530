import { AtbridgeError, ExitCode } from '../errors.js';

/**
 * MQTT topic rules (MQTT 3.1.1 §4.7, 5.0 §4.7). Filters may hold `+` (one level) and `#`
 * (this level and all below, last only); a filter starting with a wildcard never matches a
 * topic starting with `$` (so `#` does not see `$SYS/...`).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // also matches the parent level ("a/#" matches "a")
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Why a topic name cannot be published to, or undefined when it is fine. */
export function publishTopicProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'the topic is empty';
  if (Buffer.byteLength(topic) > 65535) return 'the topic is longer than 65535 bytes';
  if (topic.includes('+') || topic.includes('#')) return `"${topic}" contains '+' or '#', which only subscriptions may use`;
  if (topic.includes('\u0000')) return 'the topic contains a NUL character';
  return undefined;
}

/** Why a subscription filter is malformed, or undefined when it is fine. */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'the topic filter is empty';
  if (Buffer.byteLength(filter) > 65535) return 'the topic filter is longer than 65535 bytes';
  if (filter.includes('\u0000')) return 'the topic filter contains a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return `"${filter}": '#' must be a whole level and the last one`;
    }
    if (level.includes('+') && level !== '+') return `"${filter}": '+' must be a whole level`;
  }
  return undefined;
}

export function assertPublishTopic(topic: string): void {
  const problem = publishTopicProblem(topic);
  if (problem) throw new AtbridgeError('mqtt-bad-topic', `invalid publish topic: ${problem}`, { exitCode: ExitCode.badInput });
}

export function assertFilter(filter: string): void {
  const problem = filterProblem(filter);
  if (problem) throw new AtbridgeError('mqtt-bad-topic', `invalid subscription: ${problem}`, { exitCode: ExitCode.badInput });
}
