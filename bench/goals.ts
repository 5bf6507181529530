import type { CaseResult } from './wire-case.js';
import type { ConnackResult } from './connack.js';
import type { DecodeResult } from './decode.js';

export interface Goal {
  id: string;
  text: string;
  measured: string;
  pass: boolean;
  /** Measured minus target, in the goal's unit (positive = better than the goal). */
  margin: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pp`;

export function evaluateGoals(eff: CaseResult[], connack: ConnackResult[], decode: DecodeResult | undefined): Goal[] {
  const goals: Goal[] = [];
  const find = (family: string, mode: string, w: string, baud = 115200) =>
    eff.find((r) => r.family === family && r.mode === mode && r.workload === w && r.coalesce && r.baud === baud && !r.variant);
  for (const r of eff.filter((x) => x.mode === 'transparent' && x.baud === 115200 && !x.variant)) {
    goals.push({ id: 'efficiency-transparent', text: `${r.family} transparent ${r.workload}: wire efficiency ≥ 99% of the MQTT-bytes bound`, measured: pct(r.efficiency), pass: r.efficiency >= 0.99, margin: pp(r.efficiency - 0.99) });
  }
  for (const family of ['sim7600', 'esp-at']) {
    const c = find(family, 'command', 'W1');
    const t = find(family, 'transparent', 'W1');
    if (c && t) {
      const rel = c.efficiency / t.efficiency;
      goals.push({ id: 'efficiency-command', text: `${family} command W1: efficiency ≥ 95% of transparent's`, measured: pct(rel), pass: rel >= 0.95, margin: pp(rel - 0.95) });
    }
  }
  for (const family of ['sim7600', 'esp-at']) {
    for (const w of ['W1', 'W2']) {
      for (const [mode, target] of [['transparent', 0.95], ['command', 0.85]] as const) {
        const r = find(family, mode, w);
        if (!r) continue;
        goals.push({
          id: `throughput-${mode}`,
          text: `${family} ${mode} ${w} @115200: throughput ≥ ${target * 100}% of the line-rate bound`,
          measured: `${pct(r.ratioToBound)} (steady ${pct(r.steadyRatioToBound)})`,
          pass: r.ratioToBound >= target,
          margin: pp(r.ratioToBound - target),
        });
      }
    }
  }
  for (const c of connack) {
    goals.push({ id: 'connack-round-trips', text: `${c.family} ${c.mode}: ≤ 8 AT round trips to CONNACK (registered)`, measured: `${c.atRoundTrips}`, pass: c.atRoundTrips <= 8, margin: `${8 - c.atRoundTrips >= 0 ? '+' : ''}${8 - c.atRoundTrips} round trips` });
  }
  if (decode) {
    goals.push({ id: 'decode-speed', text: 'decode ≥ 50 MB/s', measured: `${decode.mbPerSec.toFixed(1)} MB/s`, pass: decode.ok && decode.mbPerSec >= 50, margin: `${decode.mbPerSec - 50 >= 0 ? '+' : ''}${(decode.mbPerSec - 50).toFixed(1)} MB/s` });
    const text = decode.runs?.find((r) => r.tool.includes('(text)'));
    if (text) goals.push({ id: 'decode-speed-text', text: 'decode (text) ≥ 50 MB/s', measured: `${text.mbPerSec.toFixed(1)} MB/s`, pass: text.ok && text.mbPerSec >= 50, margin: `${text.mbPerSec - 50 >= 0 ? '+' : ''}${(text.mbPerSec - 50).toFixed(1)} MB/s` });
    goals.push({ id: 'decode-rss', text: 'decode peak RSS < 150 MB', measured: `${decode.maxRssMb.toFixed(0)} MB`, pass: decode.ok && decode.maxRssMb < 150, margin: `${150 - decode.maxRssMb >= 0 ? '+' : ''}${(150 - decode.maxRssMb).toFixed(0)} MB` });
  }
  return goals;
}
