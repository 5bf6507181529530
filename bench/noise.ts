/**
 * `npm run bench:noise`: bring-up of an emulated module on a noisy line (bits flipped at RATE per
 * byte, both ways, from power-on), over many noise seeds: how often one bring-up attempt ends
 * with the module ready, how often five do, how long it takes, and why the failures failed.
 * Figures, not tests: nothing here asserts. `--runs N` (default 40), `--family sim7600|esp-at`.
 */
import { openModemSession } from '../src/modem/session.js';
import { errorMessage } from '../src/errors.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] ?? fallback : fallback;
};
const RUNS = Number(arg('runs', '40'));
const FAMILY = arg('family', 'sim7600');
const RATES = arg('rates', '0.001,0.003,0.01').split(',').map(Number);

interface Outcome {
  ok: boolean;
  ms: number;
  why?: string;
  garbled: number;
  lines: number;
}

async function bringUp(rate: number, seed: number, attempts: number): Promise<Outcome> {
  const started = performance.now();
  const device = `emu:${FAMILY}?pacing=0&fault=corrupt:${rate}&seed=${seed}`;
  try {
    const session = await openModemSession(
      { device, profile: FAMILY, baud: 115200, ...(FAMILY === 'esp-at' ? { wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' } : {}) },
      { attempts, backoff: { baseMs: 50, capMs: 200 }, registrationPollMs: 200 },
    );
    const ms = performance.now() - started;
    const { lines, garbled } = session.modem.channel.lineHealth;
    await session.close();
    return { ok: true, ms, garbled, lines };
  } catch (err) {
    return { ok: false, ms: performance.now() - started, why: errorMessage(err).replace(/\d+/g, 'N').slice(0, 90), garbled: 0, lines: 0 };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};

async function main(): Promise<void> {
  const rows: string[] = ['| rate per byte | attempts | ready | median ms | max ms | failures (why) |', '|---|---|---|---|---|---|'];
  for (const rate of RATES) {
    for (const attempts of [1, 5]) {
      const outcomes: Outcome[] = [];
      for (let seed = 1; seed <= RUNS; seed++) outcomes.push(await bringUp(rate, seed, attempts));
      const ok = outcomes.filter((o) => o.ok);
      const why = new Map<string, number>();
      for (const o of outcomes) if (!o.ok) why.set(o.why!, (why.get(o.why!) ?? 0) + 1);
      const whyText = [...why].map(([w, n]) => `${n}× ${w}`).join('; ') || '—';
      rows.push(`| ${rate} | ${attempts} | ${ok.length}/${RUNS} | ${median(ok.map((o) => o.ms)).toFixed(0)} | ${Math.max(...ok.map((o) => o.ms), 0).toFixed(0)} | ${whyText} |`);
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  }
  process.stdout.write(`${FAMILY}, ${RUNS} noise seeds per row\n${rows.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:noise: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
