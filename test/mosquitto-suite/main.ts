/**
 * `npm run test:mosquitto [-- --mode direct,device,reference] [--file PATTERN] [--jobs N] [--json FILE]`:
 * every case of mosquitto's client tests, one line each, and the totals per mode.
 * Default modes: direct and device. Exit code 0 always unless the harness itself fails (a figure, not a gate).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { ALLOWANCE_S, buildRoot, KNOWN_FAILING, portsNeeded, runFile, suiteFiles, type CaseResult, type Mode } from './harness.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// --from FILE: no run, only the report (--markdown) of an earlier --json.
const from = arg('--from');
const modes = (arg('--mode') ?? 'direct,device').split(',') as Mode[];
const pattern = arg('--file');
const jobs = Number(arg('--jobs') ?? 2);
const jsonOut = arg('--json');
const markdownOut = arg('--markdown');
const files = suiteFiles().filter((f) => pattern === undefined || f.includes(pattern));

async function runMode(mode: Mode, basePort: number): Promise<CaseResult[]> {
  const { root, cleanup } = buildRoot(mode);
  const allowance = Number(arg('--allowance') ?? ALLOWANCE_S[mode]);
  const all: CaseResult[] = [];
  const queue = [...files];
  let next = basePort;
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const ports = Array.from({ length: portsNeeded(file) }, () => next++);
      const results = await runFile(file, root, ports, undefined, (r) => {
        const tag = r.result === 'pass' ? 'ok  ' : r.result === 'skip' ? 'skip' : 'FAIL';
        process.stdout.write(`${mode.padEnd(9)} ${tag} ${r.file}:${r.line} ${r.call}\n`);
      }, allowance);
      all.push(...results);
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    cleanup();
  }
  return all;
}

const totals: string[] = [];
process.stdout.write(`modes ${modes.join(', ')}; allowance per case: ${modes.map((m) => `${m} ${arg('--allowance') ?? ALLOWANCE_S[m]} s`).join(', ')}\n`);
const report: Record<string, CaseResult[]> = {};
let base = 21000;
if (from) Object.assign(report, JSON.parse(readFileSync(from, 'utf8')) as Record<string, CaseResult[]>);
for (const [mode, results] of Object.entries(report)) {
  const pass = results.filter((r) => r.result === 'pass').length;
  totals.push(`${mode}: ${pass} passed, ${results.length - pass} failed (of ${results.length})`);
}
for (const mode of from ? [] : modes) {
  const results = await runMode(mode, base);
  base += 200;
  report[mode] = results;
  const pass = results.filter((r) => r.result === 'pass').length;
  const skip = results.filter((r) => r.result === 'skip').length;
  totals.push(`${mode}: ${pass} passed, ${results.length - pass - skip} failed, ${skip} skipped (of ${results.length})`);
}
process.stdout.write(`\n${totals.join('\n')}\n`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 1));

/** Why a case failed, in a few words: the known reasons first, then what its output shows. */
export function failureReason(r: CaseResult): string {
  const known = KNOWN_FAILING[`${r.file}:${r.line}`];
  if (known) return known;
  const out = r.output;
  const timing = /sub not terminated|rr not terminated|pub not terminated|Received: \n|actual: {3}\(0\)|timed out/.test(out);
  // A QoS 1 PUBACK with 'no matching subscribers' (rl=3): the client under test had not subscribed yet.
  const noSubscriber = /Received incorrect puback\.\nReceived: PUBACK, rl=3/.test(out);
  if (timing || noSubscriber) return 'not ready in time: the client had not subscribed (or finished) within the time the case allows, on a loaded machine';
  return (out.split('\n').find((l) => l.trim() !== '') ?? 'failed').slice(0, 160);
}

if (markdownOut) {
  const lines: string[] = [`Totals (${new Date().toISOString().slice(0, 16)}Z, load average ${os.loadavg()[0]!.toFixed(0)} on ${os.cpus().length} cores):`, ''];
  for (const t of totals) lines.push(`- ${t}`);
  for (const [mode, results] of Object.entries(report)) {
    const failed = results.filter((r) => r.result === 'fail');
    lines.push('', `Failing ${mode} (${failed.length}):`, '');
    // Cases that failed for the same reason in the same file share a line: file, the lines of their do_test calls, the reason.
    const groups = new Map<string, { file: string; reason: string; lines: number[] }>();
    for (const r of failed) {
      const reason = failureReason(r);
      const key = `${r.file}\u0000${reason}`;
      const g = groups.get(key) ?? { file: r.file, reason, lines: [] };
      g.lines.push(r.line);
      groups.set(key, g);
    }
    for (const g of groups.values()) lines.push(`- \`${g.file}\` line${g.lines.length > 1 ? 's' : ''} ${g.lines.join(', ')}: ${g.reason}`);
  }
  writeFileSync(markdownOut, `${lines.join('\n')}\n`);
}
