import { describe, expect, it } from 'vitest';
import { openModemSession } from '../../src/modem/session.js';
import type { Transition } from '../../src/modem/states.js';
import type { Tap } from '../../src/transport/tap.js';

/**
 * Bring-up on a noisy line, from power-on (issue 21): the emulated SIM7600's wire flips bits at
 * RATE per byte both ways, with a fixed noise seed per run (one generator per direction, so the
 * same bytes flip every run). A damaged answer is asked again, a damaged echo makes the answer
 * suspect, a damaged final is never taken for the real one; the module must come up, and the
 * corruption warning is raised in whatever state the session is when damage becomes sustained.
 */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** A tap that only watches notes: the state the session was in at each one. */
function noteWatcher(): Tap & { notes: { text: string; state: string }[]; state: string } {
  const watcher = {
    notes: [] as { text: string; state: string }[],
    state: 'closed',
    tx: () => undefined,
    rx: () => undefined,
    note(text: string, fields?: Record<string, unknown>) {
      if (typeof fields?.state === 'string') watcher.state = fields.state;
      watcher.notes.push({ text, state: watcher.state });
    },
  };
  return watcher;
}

describe('bring-up under line noise', () => {
  for (const rate of [0.003, 0.01]) {
    it(`comes up at ${rate} per byte on each of ${SEEDS.length} noise seeds`, async () => {
      let damaged = 0;
      for (const seed of SEEDS) {
        const session = await openModemSession(
          { device: `emu:sim7600?pacing=0&fault=corrupt:${rate}&seed=${seed}`, profile: 'sim7600', baud: 115200 },
          { attempts: 5, backoff: { baseMs: 20, capMs: 100 }, registrationPollMs: 100 },
        );
        try {
          expect(session.modem.state).toBe('ready');
          damaged += session.modem.channel.lineHealth.garbled;
        } finally {
          await session.close();
        }
      }
      // The noise did reach the AT layer, and was lived with.
      expect(damaged).toBeGreaterThan(0);
    }, 120_000);
  }

  it('warns of sustained corruption during bring-up, before the module is ready', async () => {
    const watcher = noteWatcher();
    const progress: string[] = [];
    const session = await openModemSession(
      { device: 'emu:sim7600?pacing=0&fault=corrupt:0.02&seed=3', profile: 'sim7600', baud: 115200, onProgress: (l) => progress.push(l) },
      { attempts: 10, backoff: { baseMs: 20, capMs: 100 }, registrationPollMs: 100, taps: [watcher] },
    );
    try {
      const warning = watcher.notes.find((n) => /^the serial line is corrupting data/.test(n.text));
      expect(warning, 'the corruption warning').toBeDefined();
      expect(['identify', 'init', 'attach', 'recovering']).toContain(warning!.state);
      expect(progress.some((l) => /corrupting data.*TLS/.test(l))).toBe(true);
    } finally {
      await session.close();
    }
  }, 60_000);
});

export type { Transition };
