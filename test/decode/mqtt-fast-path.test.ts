import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttStream, summarizePacket } from '../../src/decode/mqtt-stream.js';
import type { MqttSummary } from '../../src/decode/timeline.js';

/**
 * The reference: every byte through mqtt-packet's own parser and summarizePacket, as decode did
 * before the fast path (off at the first parse error or an implausible first byte).
 */
class ReferenceStream {
  private readonly parser;
  private found: Packet[] = [];
  private off = false;
  private started = false;
  constructor(version: 3 | 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => this.found.push(p));
    this.parser.on('error', () => (this.off = true));
  }
  push(data: Buffer): MqttSummary[] {
    if (this.off || data.length === 0) return [];
    if (!this.started) {
      const b = data[0]!;
      const type = b >> 4;
      const flags = b & 0x0f;
      const plausible = type !== 0 && (type === 3 || (type === 6 || type === 8 || type === 10 ? flags === 2 : flags === 0));
      if (!plausible) {
        this.off = true;
        return [];
      }
      this.started = true;
    }
    this.found = [];
    this.parser.parse(data);
    return this.found.map(summarizePacket);
  }
}

function both(version: 3 | 4 | 5, chunks: Buffer[]): { fast: MqttSummary[][]; reference: MqttSummary[][] } {
  const fast = new MqttStream();
  fast.setVersion(version);
  const reference = new ReferenceStream(version);
  return { fast: chunks.map((c) => fast.push(c)), reference: chunks.map((c) => reference.push(c)) };
}

/** Cuts bytes at the given points (any number, any place). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of at) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

const topic = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('gw/pi-01/temp', 'a/b', 'é/ü/✓', ''));
const id = fc.integer({ min: 1, max: 65535 });
const packetArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    cmd: fc.constant('publish'),
    topic,
    payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    qos: fc.constantFrom(0, 1, 2),
    retain: fc.boolean(),
    dup: fc.boolean(),
    messageId: id,
  }),
  fc.record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), messageId: id }),
  fc.record({ cmd: fc.constant('subscribe'), messageId: id, subscriptions: fc.array(fc.record({ topic: fc.constantFrom('a/#', 'b/+/c'), qos: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ cmd: fc.constant('suback'), messageId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 128), { minLength: 1, maxLength: 3 }) }),
  fc.constantFrom({ cmd: 'pingreq' }, { cmd: 'pingresp' }, { cmd: 'disconnect' }, { cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false }),
  fc.record({ cmd: fc.constant('connect'), clientId: fc.constantFrom('pi-01', 'x'), protocolVersion: fc.constant(4), keepalive: fc.constant(60), clean: fc.constant(true) }),
);

describe('MQTT fast path in decode', () => {
  it('gives the same summaries as mqtt-packet for valid streams cut anywhere (MQTT 3.1.1 and 5)', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom<3 | 4 | 5>(4, 5), (packets, points, version) => {
        const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate({ ...p, ...(p.cmd === 'connect' ? { protocolVersion: version } : {}) } as unknown as Packet, { protocolVersion: version })));
        const { fast, reference } = both(version, cut(bytes, points));
        expect(fast).toEqual(reference);
        if (version === 4) expect(fast.flat().length).toBe(packets.length);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same summaries (and stops at the same place) on corrupted and random bytes', () => {
    fc.assert(
      fc.property(
        fc.array(packetArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (packets, flips, points) => {
          const bytes = Buffer.from(Buffer.concat(packets.map((p) => mqttPacket.generate(p as unknown as Packet))));
          for (const f of flips) bytes[f.at % bytes.length] = f.byte;
          const { fast, reference } = both(4, cut(bytes, points));
          expect(fast).toEqual(reference);
        },
      ),
      { numRuns: 600 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 4 }), (raw, points) => {
        const bytes = Buffer.concat([Buffer.from([0x32]), Buffer.from(raw)]);
        const { fast, reference } = both(4, cut(bytes, points));
        expect(fast).toEqual(reference);
      }),
      { numRuns: 600 },
    );
  });

  it('reads the bench trace shape: coalesced QoS 1 publishes and PUBACKs split across reads', () => {
    const pubs = [1, 2, 3].map((i) => mqttPacket.generate({ cmd: 'publish', topic: 'gw/pi-01/temp', payload: Buffer.from(`{"seq":${i}}`), qos: 1, messageId: i, retain: false, dup: false }));
    const acks = [1, 2, 3].map((i) => mqttPacket.generate({ cmd: 'puback', messageId: i }));
    const up = both(4, [Buffer.concat(pubs)]);
    expect(up.fast).toEqual(up.reference);
    expect(up.fast[0]!.map((s) => s.text)).toEqual([1, 2, 3].map((i) => `PUBLISH (d0, q1, r0, m${i}, 'gw/pi-01/temp', ... (${`{"seq":${i}}`.length} bytes))`));
    const all = Buffer.concat(acks);
    const down = both(4, [all.subarray(0, 5), all.subarray(5)]);
    expect(down.fast).toEqual(down.reference);
    expect(down.fast.flat().map((s) => s.packetId)).toEqual([1, 2, 3]);
  });
});
