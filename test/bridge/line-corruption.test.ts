import { afterAll, describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/bridge/metrics.js';
import { startWorld, until, type BridgeWorld } from './support.js';

/**
 * Issue 21, line noise: the emulated module's line flips bits (corrupt:RATE, per byte, both ways).
 * MQTT has no checksum, so over plain TCP a damaged PUBLISH can reach the broker as valid. The AT
 * layer sees the damage in the lines around the data and the bridge says so (status, metrics,
 * log, with TLS advice); with TLS to the remote, damage breaks the TLS record instead: the
 * connection is made again, the unacknowledged message resent, and nothing damaged arrives.
 *
 * Corruption is on from power-on, with a fixed noise seed (one generator per direction: the same
 * bytes of each stream flip every run). Nothing here waits on luck: bring-up resends a step whose
 * answer arrived damaged, a damaged final, prompt or URC ends its command at once (no 10-120 s
 * timeout holding the line), and the warning is raised in whatever state the session is once the
 * damage is sustained; the line keeps carrying the messages and the status reads (every 0.5 s)
 * meanwhile, so the waits below end on those events, well inside their bounds.
 */
/**
 * At 0.0005 per byte a TLS connection through the module lives for about 2 KB (a handshake gets
 * through about one time in six), so what costs time is connections made again: 300 out and 60 in
 * took 24 s to over 120 s; 100 and 20 take 11-22 s (4 runs), and still cross dozens of damaged records.
 */
const N_OUT = 100;
const N_IN = 20;

/** Everything a watcher saw that is not one of the messages sent (or the bridge's own topics). */
function foreign(seen: Map<string, number>, expected: Set<string>): string[] {
  return [...seen.keys()].filter((k) => !expected.has(k) && !k.startsWith('atbridge/') && k !== 'sensors/ready x');
}

describe('with TLS to the remote, corruption at 0.0005 per byte loses nothing and delivers nothing damaged', () => {
  let world: BridgeWorld | undefined;
  afterAll(() => world?.stop());

  it(`carries ${N_OUT} QoS 1 out and ${N_IN} in; every arrival is a message that was sent`, async () => {
    world = await startWorld({
      lines: ['topic sensors/# out 1', 'topic cmd/# in 1', 'profile sim7600'],
      localFilters: ['cmd/#'],
      remoteFilters: ['sensors/#'],
      tls: true,
      device: 'emu:sim7600?pacing=0&fault=corrupt:0.0005&seed=21',
    });
    const { atLocal, atRemote, localPub, remotePub, bridge } = world;
    const payload = (i: number) => `reading-${i}-${'abcdefghij'.repeat(3)}`;
    await Promise.all(Array.from({ length: N_OUT }, (_, i) => localPub.publish(`sensors/c/${i}`, payload(i), { qos: 1 })));
    await Promise.all(Array.from({ length: N_IN }, (_, i) => remotePub.publish(`cmd/c/${i}`, `command-${i}`, { qos: 1 })));
    const out = Array.from({ length: N_OUT }, (_, i) => `sensors/c/${i} ${payload(i)}`);
    const back = Array.from({ length: N_IN }, (_, i) => `cmd/c/${i} command-${i}`);
    // Usually 6-31 s. Bounded high all the same: an open whose link digit was flipped on the way
    // opens another link; it is closed once its answer names it, but if that answer is lost too the
    // emulated SIM7600 (one socket) refuses opens until the broker drops the silent connection.
    await until(() => atRemote.check(out).missing === 0 && atLocal.check(back).missing === 0, 'every message across', 170_000);
    expect(foreign(atRemote.seen, new Set(out)), 'damaged messages at the remote').toEqual([]);
    expect(foreign(atLocal.seen, new Set(back)), 'damaged messages at the local broker').toEqual([]);
    const status = await bridge.status();
    // The line was noisy all along: the AT layer saw it.
    expect((status.module.line as { lines: number }).lines).toBeGreaterThan(0);
  }, 240_000);
});

describe('over plain TCP the damage is seen and reported', () => {
  let world: BridgeWorld | undefined;
  afterAll(() => world?.stop());

  it('counts damaged lines, reports the rate in status and metrics, and advises TLS in the log', async () => {
    world = await startWorld({
      lines: ['topic sensors/# out 1', 'profile sim7600'],
      localFilters: ['none/#'],
      remoteFilters: ['sensors/#'],
      device: 'emu:sim7600?pacing=0&fault=corrupt:0.003&seed=21',
    });
    const { localPub, bridge, log } = world;
    await Promise.all(Array.from({ length: 200 }, (_, i) => localPub.publish(`sensors/p/${i}`, `plain-${i}`, { qos: 1 }).catch(() => undefined)));
    await until(() => log.some((l) => /^modem: the serial line is corrupting data/.test(l)), 'the corruption warning', 60_000);
    const warning = log.find((l) => /^modem: the serial line is corrupting data/.test(l))!;
    expect(warning).toMatch(/TLS/);
    const status = await bridge.status();
    const line = status.module.line as { lines: number; garbled: number; recentRate: number };
    expect(line.garbled).toBeGreaterThan(0);
    expect(line.garbled).toBeLessThan(line.lines);
    const metrics = renderMetrics(status);
    expect(metrics).toMatch(/^atbridge_line_garbled_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^atbridge_line_corruption_ratio /m);
  }, 120_000);
});
