/**
 * `npm run bench:noise`: bring-up of an emulated module on a noisy line (bits flipped at RATE per
 * byte, both ways, from power-on), over many noise seeds: how often one bring-up attempt ends
 * with the module ready, how often five do, how long it takes, and why the failures failed.
 * Figures, not tests: nothing here asserts. `--runs N` (default 40), `--family sim7600|esp-at`.
 *
 * `--tls`: TLS handshakes to a TLS mosquitto through the emulated module on a noisy line
 * (`--rates`, default 0.0005 and 0.001), one per noise seed: how each ended (done, failed at once on a bad
 * record, or stalled and abandoned at the handshake bound) and how long the longest took, with the
 * bound (connect_timeout, 5 s for keepalive 10) and without (as before: capped here at 35 s).
 */
import { openModemSession } from '../src/modem/session.js';
import { errorMessage } from '../src/errors.js';
import { RemoteLink } from '../src/bridge/remote-link.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] ?? fallback : fallback;
};
const RUNS = Number(arg('runs', '40'));
const FAMILY = arg('family', 'sim7600');
const RATES = arg('rates', process.argv.includes('--tls') ? '0.0005,0.001' : '0.001,0.003,0.01').split(',').map(Number);

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

async function tlsHandshakes(): Promise<void> {
  const broker = await startMosquitto({ tls: true });
  const rows: string[] = ['| rate per byte | handshake bound | done | failed at once | stalled (abandoned) | longest ms |', '|---|---|---|---|---|---|'];
  try {
    for (const rate of RATES) {
      for (const bound of [5000, undefined]) {
        let done = 0;
        let failed = 0;
        let stalled = 0;
        let longest = 0;
        for (let seed = 1; seed <= RUNS; seed++) {
          const log: string[] = [];
          const link = new RemoteLink({
            host: 'localhost',
            port: broker.tlsPort!,
            tls: { cafile: broker.certs!.caFile },
            modem: { device: `emu:sim7600?pacing=0&fault=corrupt:${rate}&seed=${seed}`, profile: 'sim7600', baud: 115200 },
            log: (l) => log.push(l),
          });
          // The module is brought up first (its own noise costs are the other table's): a first handshake, whatever its end.
          await Promise.race([link.connect({ handshakeTimeoutMs: 5000 }).then((s) => s.destroy(), () => undefined), new Promise((r) => setTimeout(r, 30_000).unref())]);
          const started = performance.now();
          // Without a bound a stalled handshake never ends by itself: 35 s stands for the old CONNACK wait.
          const cap = new Promise<'capped'>((resolve) => setTimeout(() => resolve('capped'), 35_000).unref());
          const outcome: 'done' | 'failed' | 'stalled' | 'capped' = await Promise.race([
            link.connect(bound !== undefined ? { handshakeTimeoutMs: bound } : {}).then((s) => (s.destroy(), 'done' as const), (err: unknown) => (/not done within/.test(errorMessage(err)) ? ('stalled' as const) : ('failed' as const))),
            cap,
          ]);
          const ms = performance.now() - started;
          if (outcome === 'done') done++;
          else if (outcome === 'failed') failed++;
          else stalled++;
          longest = Math.max(longest, ms);
          await link.close().catch(() => undefined);
        }
        rows.push(`| ${rate} | ${bound === undefined ? 'none (before)' : `${bound / 1000} s`} | ${done} | ${failed} | ${stalled} | ${longest.toFixed(0)} |`);
        process.stderr.write(`${rows.at(-1)}\n`);
      }
    }
  } finally {
    await broker.stop();
  }
  process.stdout.write(`TLS handshakes through emu:sim7600, ${RUNS} noise seeds per row\n${rows.join('\n')}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--tls')) return tlsHandshakes();
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
