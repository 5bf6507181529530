import { describe, expect, it } from 'vitest';
import { thin } from '../../src/probe/html.js';
import { JTL_COLUMNS, jtlRow, jtlText, quoteField } from '../../src/probe/jtl.js';
import { publishPacketBytes } from '../../src/probe/packet-size.js';
import { buildPayload, minimumSize, parsePayload, TIMESTAMP_SEPARATOR } from '../../src/probe/payload.js';
import type { Sample } from '../../src/probe/samples.js';
import { distribution, histogram, percentile } from '../../src/probe/stats.js';
import mqttPacket from 'mqtt-packet';

describe('probe payload (JMeter MQTT plugin layout)', () => {
  const stamp = { sentEpochMs: 1_764_774_000_123, runId: 'ab12cd34', seq: 41, qos: 1, sentUs: 123_456_789 };

  it('starts with the send time in epoch ms, then ts_sep_flag, as the plugin\'s subscriber parses it', () => {
    const payload = buildPayload(stamp, 100);
    expect(payload.length).toBe(100);
    const text = payload.toString('latin1');
    // The plugin: index = msg.indexOf("ts_sep_flag"); start = Long.parseLong(msg.substring(0, index)).
    const index = text.indexOf(TIMESTAMP_SEPARATOR);
    expect(/^\d+$/.test(text.slice(0, index))).toBe(true);
    expect(Number(text.slice(0, index))).toBe(stamp.sentEpochMs);
    expect(text.endsWith('x')).toBe(true);
    expect(parsePayload(payload)).toEqual(stamp);
  });

  it('is exactly --size bytes from the minimum up, and foreign payloads are not ours', () => {
    const min = minimumSize('ab12cd34', 99);
    expect(buildPayload(stamp, min).length).toBe(min);
    expect(parsePayload(Buffer.from('hello'))).toBeUndefined();
    expect(parsePayload(Buffer.from('12ts_sep_flag'))).toBeUndefined();
  });
});

describe('probe statistics', () => {
  it('percentiles are nearest-rank (JMeter aggregate report)', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 90)).toBe(90);
    expect(percentile(values, 99)).toBe(99);
    expect(distribution([5, 1, 3])).toMatchObject({ count: 3, min: 1, p50: 3, max: 5, mean: 3 });
    expect(distribution([])).toBeUndefined();
  });

  it('the histogram holds every value once', () => {
    const values = [1, 2, 2, 3, 10, 10, 10, 50];
    const bins = histogram(values, 5);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(values.length);
    expect(bins[0]!.from).toBe(1);
    expect(bins[4]!.to).toBe(50);
  });

  it('the PUBLISH size matches mqtt-packet\'s encoding', () => {
    for (const [qos, size, v] of [[0, 10, 4], [1, 200, 4], [2, 300, 5], [1, 20_000, 4]] as const) {
      const packet = mqttPacket.generate({ cmd: 'publish', topic: 'a/b/c', payload: Buffer.alloc(size), qos, messageId: qos ? 1 : undefined, retain: false, dup: false, ...(v === 5 ? { properties: {} } : {}) } as never, { protocolVersion: v });
      expect(publishPacketBytes('a/b/c', size, qos, v)).toBe(packet.length);
    }
  });
});

const sample: Sample = {
  label: 'MQTT Sub q1', timeStamp: 1_764_774_000_123, elapsed: 35, latency: 35, connect: 0, success: true,
  responseCode: '200', responseMessage: 'OK', failureMessage: '', bytes: 64, sentBytes: 0,
  threadName: 'probe 1-1', grpThreads: 1, allThreads: 1, url: 'mqtt://127.0.0.1:1883/t',
};

describe('JTL (JMeter CSV result format)', () => {
  it('has JMeter\'s default columns in CSVSaveService\'s order', () => {
    // jmeter.properties defaults and CSVSaveService.resultToDelimitedString's order (JMeter 5.x).
    expect(JTL_COLUMNS.join(',')).toBe(
      'timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect',
    );
  });

  it('writes each field as JMeter does, quoting delimiters and doubling quotes', () => {
    expect(jtlRow(sample)).toBe('1764774000123,35,MQTT Sub q1,200,OK,probe 1-1,text,true,,64,0,1,1,mqtt://127.0.0.1:1883/t,35,0,0');
    expect(quoteField('a,b')).toBe('"a,b"');
    expect(quoteField('say "hi"')).toBe('"say ""hi"""');
    expect(quoteField('two\nlines')).toBe('"two\nlines"');
    const failed = jtlRow({ ...sample, success: false, responseCode: 'lost', failureMessage: 'not received, "gone"' });
    expect(failed).toContain(',false,"not received, ""gone""",');
  });

  it('sorts rows by timeStamp under one header line', () => {
    const text = jtlText([{ ...sample, timeStamp: 3 }, { ...sample, timeStamp: 1 }]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]!.startsWith('1,')).toBe(true);
  });
});

describe('probe --html delay plot', () => {
  it('thins a long run to each time slice\'s fastest and slowest message, keeping the extremes', () => {
    const points = Array.from({ length: 50_000 }, (_, i) => ({ t: i / 1000, delay: (i * 7919) % 1000, qos: 0 }));
    points[31_337]!.delay = 99_999;
    const kept = thin(points, 1000);
    expect(kept.length).toBeLessThanOrEqual(1000);
    expect(kept.length).toBeGreaterThan(900);
    expect(Math.max(...kept.map((p) => p.delay))).toBe(99_999);
    expect(Math.min(...kept.map((p) => p.delay))).toBe(0);
    expect(thin(points.slice(0, 10), 1000)).toHaveLength(10);
  });
});
