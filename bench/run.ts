/**
 * `npm run bench`: wire efficiency, throughput against the line rate, time to CONNACK, decode
 * speed and host cost, measured through the paced emulator against mosquitto on loopback.
 * Prints the tables and writes bench/results.json. Figures, not tests: nothing here asserts.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILE_DIR } from '../src/profile/index.js';
import { VERSION } from '../src/version.js';
import { startMosquitto } from './broker.js';
import { timeToConnack, type ConnackResult } from './connack.js';
import { decodeSpeed, type DecodeResult } from './decode.js';
import { evaluateGoals } from './goals.js';
import { hostCost, type HostCostResult } from './host-cost.js';
import { startupTimes, type StartupResult } from './startup.js';
import { table } from './table.js';
import { runCase, type CaseResult, type CaseSpec, type Family, type Mode } from './wire-case.js';
import { WORKLOADS, type WorkloadId } from './workloads.js';

const LATENCY_MS = 5;
const RTT_MS = 100;
/** QoS 1 window: at 921600 baud one 83-byte publish takes 0.9 ms of line, so 100 ms of RTT needs > 110 in flight. */
const INFLIGHT = 500;
const FAMILIES: Family[] = ['sim7600', 'esp-at'];
const MODES: Mode[] = ['command', 'transparent'];
const quick = process.argv.includes('--quick');

const here = dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);

function spec(family: Family, mode: Mode, w: WorkloadId, baud: number, extra: Partial<CaseSpec> = {}): CaseSpec {
  return { family, mode, coalesce: true, baud, latencyMs: LATENCY_MS, rttMs: RTT_MS, inflight: INFLIGHT, workload: WORKLOADS[w], ...extra };
}

/** A copy of a profile with no settle pause after each final: the what-if for the cause analysis. */
function noSettleProfile(dir: string, family: Family): string {
  const data = JSON.parse(readFileSync(join(PROFILE_DIR, `${family}.json`), 'utf8')) as { serial: { settleMs: number }; $schema?: string };
  data.serial.settleMs = 0;
  delete data.$schema;
  const path = join(dir, `${family}-settle0.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f1 = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const tmp = mkdtempSync(join(os.tmpdir(), 'atbridge-bench-'));
  const wire: CaseResult[] = [];
  const oneSend: CaseResult[] = [];
  const whatIf: CaseResult[] = [];
  const connack: ConnackResult[] = [];
  const host: HostCostResult[] = [];
  const errors: string[] = [];
  let decode: DecodeResult | undefined;
  let startup: StartupResult[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    log(what);
    try {
      return await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
      log(`  failed: ${(err as Error).message}`);
      return undefined;
    }
  };
  try {
    // A cold process (JIT, the broker's first client) ran the first timed case 5-7 points slower
    // than the same case later in the run: one discarded run warms everything up first.
    await attempt('warm-up (not counted)', () => runCase(spec('sim7600', 'command', 'W1', 115200), broker));
    // (1)+(2) at 115200: every family, mode and workload, one at a time (timing is measured).
    const workloads: WorkloadId[] = quick ? ['W1'] : ['W1', 'W2', 'W3'];
    for (const family of FAMILIES) for (const mode of MODES) for (const w of workloads) {
      const r = await attempt(`${family} ${mode} ${w} @115200`, () => runCase(spec(family, mode, w, 115200), broker));
      if (r) wire.push(r);
    }
    // The one-send-per-packet column: deterministic in bytes (one AT+CIPSEND per packet) and slow,
    // so the publishing runs go side by side (their msg/s are not throughput figures). Receiving
    // runs go one at a time: a subscriber would also get the side-by-side publishers' messages.
    const pubWorkloads = workloads.filter((w) => WORKLOADS[w].direction === 'pub');
    log(`one AT+CIPSEND per packet (coalesce off), ${pubWorkloads.length * FAMILIES.length} publishing runs side by side`);
    const settled = await Promise.allSettled(
      FAMILIES.flatMap((family) => pubWorkloads.map((w) => runCase(spec(family, 'command', w, 115200, { coalesce: false }), broker))),
    );
    for (const s of settled) {
      if (s.status === 'fulfilled') oneSend.push(s.value);
      else errors.push(`coalesce off: ${(s.reason as Error).message}`);
    }
    for (const family of FAMILIES) for (const w of workloads.filter((x) => WORKLOADS[x].direction === 'sub')) {
      const r = await attempt(`one AT+CIPSEND per packet (coalesce off) ${family} ${w}`, () => runCase(spec(family, 'command', w, 115200, { coalesce: false }), broker));
      if (r) oneSend.push(r);
    }
    // (2) at 921600.
    if (!quick) {
      for (const family of FAMILIES) for (const mode of MODES) for (const w of ['W1', 'W2'] as const) {
        const r = await attempt(`${family} ${mode} ${w} @921600`, () => runCase(spec(family, mode, w, 921600), broker));
        if (r) wire.push(r);
      }
    }
    // What-if: command mode with the 20 ms settle pause after each final removed (host profile copy).
    for (const family of FAMILIES) for (const [w, baud] of (quick ? [['W1', 115200]] : [['W1', 115200], ['W2', 115200], ['W1', 921600]]) as [WorkloadId, number][]) {
      const r = await attempt(`what-if ${family} command ${w} @${baud} settleMs=0`, () =>
        runCase(spec(family, 'command', w, baud, { hostProfile: noSettleProfile(tmp, family), variant: 'settleMs=0' }), broker),
      );
      if (r) whatIf.push(r);
    }
    // (3) time to CONNACK from a cold, registered module.
    for (const family of FAMILIES) for (const mode of MODES) {
      const r = await attempt(`time to CONNACK ${family} ${mode}`, () => timeToConnack(family, mode, broker, 115200, LATENCY_MS, RTT_MS));
      if (r) connack.push(r);
    }
    // (4) decode speed on a generated capture.
    decode = await attempt(`decode speed (${quick ? 20 : 200} MB capture)`, () => decodeSpeed((quick ? 20 : 200) * 1024 * 1024));
    // (5) host cost of `atbridge pub -l`.
    const n = quick ? 10_000 : 100_000;
    const viaModule = await attempt(`host cost: pub -l ${n} messages through the module`, () =>
      hostCost(broker, { messages: n, small: 1000, payloadBytes: 64, qos: 1, via: 'module', profile: 'sim7600', transparent: false }),
    );
    if (viaModule) host.push(viaModule);
    const direct = await attempt(`host cost: pub -l ${n} messages direct`, () => hostCost(broker, { messages: n, small: 1000, payloadBytes: 64, qos: 1, via: 'direct' }));
    if (direct) host.push(direct);
    startup = (await attempt('start-up: sub SUBSCRIBE after spawn, atbridge and mosquitto_sub', () => startupTimes(quick ? 5 : 20))) ?? [];
  } finally {
    await broker.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const goals = evaluateGoals(wire, connack, decode);
  const totalSeconds = (performance.now() - started) / 1000;
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
  const results = {
    date: new Date().toISOString(),
    version: VERSION,
    machine,
    conditions: { broker: 'mosquitto 2 (separate process, loopback)', pacing: '8N1, 10 bits/byte', commandLatencyMs: LATENCY_MS, networkRttMs: RTT_MS, inflight: INFLIGHT, recvMode: 'push', protocol: 'MQTT 3.1.1' },
    wire,
    oneSendPerPacket: oneSend,
    whatIfNoSettle: whatIf,
    connack,
    decode,
    hostCost: host,
    startup,
    loadAverage: os.loadavg()[0],
    goals,
    errors,
    totalSeconds,
  };
  writeFileSync(join(here, '..', '..', 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(render(results, false));
}

type Results = {
  date: string;
  machine: { cpus: number; cpuModel: string; memGb: number; node: string };
  wire: CaseResult[];
  oneSendPerPacket: CaseResult[];
  whatIfNoSettle: CaseResult[];
  connack: ConnackResult[];
  decode: DecodeResult | undefined;
  hostCost: HostCostResult[];
  startup?: StartupResult[];
  loadAverage?: number;
  goals: ReturnType<typeof evaluateGoals>;
  errors: string[];
  totalSeconds: number;
};

export function render(r: Results, md: boolean): string {
  const out: string[] = [];
  const h = (s: string) => out.push('', md ? `### ${s}` : `== ${s}`, '');
  out.push(`atbridge bench — ${r.date.slice(0, 10)} — ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memGb} GB, node ${r.machine.node}`);
  out.push(`emulator paced 8N1, command latency ${LATENCY_MS} ms, network RTT ${RTT_MS} ms, QoS 1 in-flight ${INFLIGHT}, mosquitto on loopback, MQTT 3.1.1, push receive`);
  h('(1) wire efficiency @115200 — MQTT bytes ÷ serial bytes (both directions)');
  const at115 = r.wire.filter((x) => x.baud === 115200);
  out.push(
    table(
      ['family', 'mode', 'workload', 'MQTT B', 'serial B', 'efficiency', 'sends', 'one send/packet', 'its sends'],
      at115.map((x) => {
        const one = r.oneSendPerPacket.find((o) => o.family === x.family && o.workload === x.workload && x.mode === 'command');
        return [x.family, x.mode, x.workload, x.mqttBytes, x.serialBytes, pct(x.efficiency), x.sends, one ? pct(one.efficiency) : '—', one ? one.sends : '—'];
      }),
      md,
    ),
  );
  h('(2) throughput vs the line-rate bound — bound = (baud/10) ÷ MQTT bytes per message (busier direction)');
  out.push(
    table(
      ['family', 'mode', 'workload', 'baud', 'msg/s', 'bound', 'ratio', 'steady ratio', 'seconds'],
      r.wire.filter((x) => x.workload !== 'W3').sort((a, b) => a.baud - b.baud).map((x) => [x.family, x.mode, x.workload, x.baud, f1(x.msgPerSec), f1(x.boundMsgPerSec), pct(x.ratioToBound), pct(x.steadyRatioToBound), x.seconds.toFixed(2)]),
      md,
    ),
  );
  if (r.whatIfNoSettle.length > 0) {
    out.push('', 'what-if: command mode with the profile settleMs 20 → 0 (host side only)');
    out.push(
      table(
        ['family', 'workload', 'baud', 'ratio', 'was', 'efficiency', 'was', 'sends'],
        r.whatIfNoSettle.map((x) => {
          const base = r.wire.find((b) => b.family === x.family && b.mode === 'command' && b.workload === x.workload && b.baud === x.baud);
          return [x.family, x.workload, x.baud, pct(x.ratioToBound), base ? pct(base.ratioToBound) : '—', pct(x.efficiency), base ? pct(base.efficiency) : '—', x.sends];
        }),
        md,
      ),
    );
  }
  h('(3) time to CONNACK from a cold module (registered at power-on, 115200 baud)');
  out.push(table(['family', 'mode', 'AT round trips', 'seconds from banner'], r.connack.map((c) => [c.family, c.mode, c.atRoundTrips, c.secondsFromBanner.toFixed(2)]), md));
  for (const c of r.connack.filter((x) => x.mode === 'command')) out.push('', `${c.family}: ${c.commands.map((x) => `${x.command} (${x.ms} ms)`).join(' → ')}`);
  h('(4) decode speed');
  if (r.decode) {
    const d = r.decode;
    const runs = d.runs ?? [{ tool: d.tool, wallSeconds: d.wallSeconds, mbPerSec: d.mbPerSec, maxRssMb: d.maxRssMb, ok: d.ok }];
    out.push(table(['tool', 'capture MB', 'events', 'seconds', 'MB/s', 'peak RSS MB'], runs.map((x) => [x.tool, f1(d.captureBytes / 1e6), d.events, x.wallSeconds.toFixed(2), f1(x.mbPerSec), f1(x.maxRssMb)]), md));
  }
  h('(5) host cost of `atbridge pub -l` (QoS 1, 64-byte lines)');
  out.push(
    table(
      ['path', 'messages', 'seconds', 'CPU µs/msg', 'marginal µs/msg', 'steady RSS MB', 'peak RSS MB'],
      r.hostCost.map((x) => [x.path, x.messages, x.wallSeconds.toFixed(1), f1(x.cpuUsPerMessage), x.marginalCpuUsPerMessage === undefined ? '—' : f1(x.marginalCpuUsPerMessage), x.steadyRssMb === undefined ? '—' : f1(x.steadyRssMb), f1(x.maxRssMb)]),
      md,
    ),
  );
  h('(6) start-up: `sub` SUBSCRIBE after spawn (goal: within 100 ms, direct)');
  out.push(table(['client', 'runs', 'median ms', 'min ms', 'max ms'], (r.startup ?? []).map((x) => [x.client, x.runs, f1(x.medianMs), f1(x.minMs), f1(x.maxMs)]), md));
  if (r.loadAverage !== undefined) out.push('', `load average during the run: ${r.loadAverage.toFixed(1)} on ${r.machine.cpus} cores`);
  h('goals');
  out.push(table(['goal', 'measured', 'result', 'margin'], r.goals.map((g) => [g.text, g.measured, g.pass ? 'pass' : 'MISS', g.margin]), md));
  if (r.errors.length > 0) out.push('', 'errors:', ...r.errors.map((e) => `  ${e}`));
  out.push('', `total ${r.totalSeconds.toFixed(0)} s`, '');
  return out.join('\n');
}

await main();
