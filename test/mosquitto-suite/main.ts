/**
 * `npm run test:mosquitto [-- --mode direct,device,reference] [--file PATTERN] [--jobs N] [--json FILE]`:
 * every case of mosquitto's client tests, one line each, and the totals per mode.
 * Default modes: direct and device. Exit code 0 always unless the harness itself fails (a figure, not a gate).
 */
import { writeFileSync } from 'node:fs';
import { ALLOWANCE_S, buildRoot, portsNeeded, runFile, suiteFiles, type CaseResult, type Mode } from './harness.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const modes = (arg('--mode') ?? 'direct,device').split(',') as Mode[];
const pattern = arg('--file');
const jobs = Number(arg('--jobs') ?? 2);
const jsonOut = arg('--json');
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
for (const mode of modes) {
  const results = await runMode(mode, base);
  base += 200;
  report[mode] = results;
  const pass = results.filter((r) => r.result === 'pass').length;
  const skip = results.filter((r) => r.result === 'skip').length;
  totals.push(`${mode}: ${pass} passed, ${results.length - pass - skip} failed, ${skip} skipped (of ${results.length})`);
}
process.stdout.write(`\n${totals.join('\n')}\n`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 1));
