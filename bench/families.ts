/**
 * `npm run bench:families`: the wire figures per family and mode, for every profile that has an
 * emulator dialect: wire efficiency, W1 throughput against the line-rate bound at 115200 baud, and
 * AT round trips to CONNACK. Same emulator settings as `npm run bench` (8N1 pacing, 5 ms command
 * latency, 100 ms network round trip, mosquitto on loopback). Writes bench/families.json.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDialect } from '../src/emulator/dialects.js';
import { getProfile, listProfileIds } from '../src/profile/index.js';
import { startMosquitto } from './broker.js';
import { timeToConnack, type ConnackResult } from './connack.js';
import { table } from './table.js';
import { runCase, type CaseResult, type Mode } from './wire-case.js';
import { WORKLOADS } from './workloads.js';

const BAUD = 115200;
const APN = 'internet';
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

interface Row {
  family: string;
  mode: string;
  wire?: CaseResult;
  connack?: ConnackResult;
  error?: string;
}

function modes(id: string): { name: string; mode: Mode; recvMode: 'push' | 'buffered' }[] {
  const p = getProfile(id).data.socket;
  const out: { name: string; mode: Mode; recvMode: 'push' | 'buffered' }[] = p.recvModes.map((r) => ({ name: `command/${r}`, mode: 'command' as const, recvMode: r }));
  if ((p.modes ?? ['command', 'transparent']).includes('transparent')) out.push({ name: 'transparent', mode: 'transparent', recvMode: 'push' });
  return out;
}

const broker = await startMosquitto();
const rows: Row[] = [];
try {
  for (const id of listProfileIds().filter((x) => findDialect(x) && (only.length === 0 || only.includes(x)))) {
    for (const m of modes(id)) {
      const row: Row = { family: id, mode: m.name };
      try {
        row.wire = await runCase(
          { family: id, mode: m.mode, coalesce: true, baud: BAUD, latencyMs: 5, rttMs: 100, inflight: 500, workload: WORKLOADS.W1, apn: APN, recvMode: m.recvMode },
          broker,
        );
        if (m.recvMode === getProfile(id).data.socket.recvModes[0]) row.connack = await timeToConnack(id, m.mode, broker, BAUD, 5, 100, APN);
      } catch (err) {
        row.error = (err as Error).message.split('\n')[0];
      }
      process.stderr.write(`${id} ${m.name}: ${row.error ?? 'ok'}\n`);
      rows.push(row);
    }
  }
} finally {
  await broker.stop();
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(
  table(
    ['family', 'mode', 'efficiency W1', 'W1 msg/s @115200 (% of bound)', 'AT round trips to CONNACK', 's from banner'],
    rows.map((r) =>
      r.error
        ? [r.family, r.mode, `failed: ${r.error}`, '', '', '']
        : [
            r.family,
            r.mode,
            pct(r.wire!.efficiency),
            `${r.wire!.msgPerSec.toFixed(1)} (${pct(r.wire!.ratioToBound)})`,
            r.connack ? String(r.connack.atRoundTrips) : '—',
            r.connack ? r.connack.secondsFromBanner.toFixed(2) : '—',
          ],
    ),
    process.argv.includes('--md'),
  ),
);
writeFileSync(join(here, '..', '..', 'bench', 'families.json'), `${JSON.stringify({ measured: new Date().toISOString(), rows }, null, 2)}\n`);
