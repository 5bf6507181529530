import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, runFamily } from '../../bench/soak-chaos.js';

/**
 * The chaos soak of issue 21 (`npm run soak`), short: one family, one fault of every kind
 * (module power loss, bridge kill -9, broker restart, line unplug, a live emulator fault, a burst
 * of corruption with TLS to the remote), the bridge as its own process (the built CLI), the module
 * `atbridge emulate --control` in its own, its faults sent with `atbridge emulate-ctl`.
 * Nothing lost, no QoS 2 duplicate, nothing damaged delivered, no crash, every fault applied.
 */
describe('chaos soak, short', () => {
  it('sim7600: one fault of every kind; nothing lost, no QoS 2 duplicate, no crash', async () => {
    const lines: string[] = [];
    const result = await runFamily('sim7600', { families: ['sim7600'], seconds: 0, faultCount: FAULT_KINDS.length, everySeconds: 2.5, rate: 5, restart: [0.2, 2], log: (l) => lines.push(l) });
    const lost = Object.values(result.streams).reduce((n, s) => n + s.lost, 0);
    if (lost > 0) process.stderr.write(`soak-short: ${JSON.stringify({ lostSamples: result.lostSamples, drained: result.drained, drainSeconds: result.drainSeconds, timeline: result.timeline, streams: result.streams })}\n${lines.join('\n')}\nremote broker:\n${result.brokerLogs?.remote ?? ''}\nlocal broker:\n${result.brokerLogs?.local ?? ''}\n`);
    for (const kind of FAULT_KINDS) expect(result.faults[kind], kind).toBeGreaterThanOrEqual(1);
    expect(result.crashLines).toEqual([]);
    expect([...result.faultErrors, ...result.emulatorExits]).toEqual([]);
    for (const [name, s] of Object.entries(result.streams)) {
      expect(s.sent, name).toBeGreaterThan(0);
      expect({ name, lost: s.lost, corrupted: s.corrupted }).toEqual({ name, lost: 0, corrupted: 0 });
      if (name.endsWith('Q2')) expect({ name, duplicated: s.duplicated }).toEqual({ name, duplicated: 0 });
    }
  }, 180_000);

  it('the counting finds a real loss (acknowledged by the local broker, then dropped) and tells a broker-side loss apart', async () => {
    const lines: string[] = [];
    // Power loss, then kill -9 with the injected loss; a short drain wait (the loss never drains).
    // At the first fault, also a loss that is the broker's: the remote's counting subscriber away 1.5 s with its session wiped.
    const result = await runFamily('sim7600', { families: ['sim7600'], seconds: 0, faultCount: 2, everySeconds: 2.5, rate: 5, restart: [0.2, 2], drainSeconds: 15, injectLoss: 10, injectBrokerLoss: 1500, log: (l) => lines.push(l) });
    expect(lines.some((l) => l.includes('injected a loss of 10')), lines.join('\n')).toBe(true);
    expect(result.drained).toBe(false);
    expect(result.brokerLogs?.local, 'the broker logs of a run that did not drain').toContain('atbridge-local-soak-sim7600');
    expect(result.streams.outQ1!.lost, JSON.stringify(result.lostSamples)).toBeGreaterThanOrEqual(10);
    // Never published into the remote broker: the witness there does not have them either.
    expect(result.lostSamples.some((l) => l.includes('never in the destination broker')), JSON.stringify(result.lostSamples)).toBe(true);
    // What the remote broker had and did not deliver is the broker's, not counted as the bridge's.
    const brokerLost = Object.values(result.streams).reduce((n, s) => n + s.brokerLost, 0);
    expect(brokerLost, JSON.stringify(result.streams)).toBeGreaterThan(0);
    expect(result.lostSamples.some((l) => l.includes('its witness has it')), JSON.stringify(result.lostSamples)).toBe(true);
    expect(result.crashLines).toEqual([]);
  }, 180_000);
});
