import { describe, expect, it } from 'vitest';
import { filterProblem, publishTopicProblem, topicMatches } from '../../src/mqtt/topic.js';
import { backoffDelay } from '../../src/mqtt/backoff.js';
import { FrameReader } from '../../src/mqtt/frame-reader.js';

describe('topic matching', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['+/+', 'a/b', true],
    ['+', '/a', false],
    ['+/a', '/a', true],
    ['#', 'a/b', true],
    ['#', '$SYS/broker/version', false],
    ['+/broker/version', '$SYS/broker/version', false],
    ['$SYS/#', '$SYS/broker/version', true],
    ['$SYS/+/version', '$SYS/broker/version', true],
    ['a/b', 'a/c', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('knows malformed filters and topics', () => {
    expect(filterProblem('a/#/b')).toMatch(/last/);
    expect(filterProblem('a/b#')).toMatch(/whole level/);
    expect(filterProblem('a+/b')).toMatch(/whole level/);
    expect(filterProblem('a/+/#')).toBeUndefined();
    expect(publishTopicProblem('a/+')).toMatch(/only subscriptions/);
    expect(publishTopicProblem('')).toMatch(/empty/);
  });
});

describe('backoff', () => {
  it('doubles up to the cap with at most half of it random', () => {
    const opts = { baseMs: 100, capMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('frame reader', () => {
  it('reassembles packets split anywhere and refuses an oversized one from its header alone', () => {
    const reader = new FrameReader(200);
    const pingresp = Buffer.from([0xd0, 0]);
    const publish = Buffer.concat([Buffer.from([0x30, 7, 0, 1, 0x74]), Buffer.from('abcd')]);
    const stream = Buffer.concat([pingresp, publish, pingresp]);
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...reader.push(Buffer.from([byte])));
    expect(out.map((b) => b.toString('hex'))).toEqual([pingresp, publish, pingresp].map((b) => b.toString('hex')));
    // 0x30, remaining length 300 (0xac 0x02): rejected with only 3 bytes seen.
    expect(() => new FrameReader(200).push(Buffer.from([0x30, 0xac, 0x02]))).toThrow(/receive limit/);
  });
});
