import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrograms } from './build.js';
import { loadMatrix, type Run } from './matrix.js';
import { runScenario, type RunResult } from './run-sketch.js';

// Unmodified TinyGSM, built with EpoxyDuino into one Linux program per modem class, against
// `atbridge emulate --pty` for every family and scenario in families.json. Checks listed there as
// expected failures must still fail (EMULATOR-GAPS.md says why); every other check must pass.

// TINYGSM_FAMILIES=a76xx,sim800 runs only those families (while working on one dialect).
const only = process.env.TINYGSM_FAMILIES?.split(',').filter(Boolean);
const loaded = loadMatrix();
const matrix = only ? { ...loaded, runs: loaded.runs.filter((r) => only.includes(r.family.family)), expectedFailures: loaded.expectedFailures.filter((x) => only.includes(x.family)) } : loaded;
const results = new Map<Run, RunResult>();
const label = (run: Run) => `${run.family.family}/${run.scenario.scenario}`;

beforeAll(async () => {
  const started = Date.now();
  const build = await buildPrograms([...new Set(matrix.runs.map((r) => r.family.define))]);
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  console.log(`TinyGSM programs in ${build.dir} (${build.compiled ? `${build.compiled} compiler runs` : 'cached'}, ${took})`);
  if (matrix.expectedFailures.length > 0) {
    console.log(`expected failures (${matrix.expectedFailures.length}, see test/thirdparty/EMULATOR-GAPS.md):`);
    for (const x of matrix.expectedFailures) console.log(`  ${x.family}/${x.scenario} ${x.check}: ${x.gap} ${x.why}`);
  }
  // Runs overlap (they mostly wait on the line; the SIM7600 restart alone waits 24 s), at most
  // TINYGSM_PARALLEL at a time (default 6) so that a 2-core machine keeps each module's timing;
  // the long main scenarios start first.
  const limit = Math.max(1, Number(process.env.TINYGSM_PARALLEL ?? 6));
  const queue = [...matrix.runs].sort((a, b) => Number(b.scenario.scenario === 'main') - Number(a.scenario.scenario === 'main'));
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) results.set(run, await runScenario(run, build.programs.get(run.family.define)!));
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  // TinyGSM waits as little as 1 s for some answers; on a machine loaded far past its cores a run
  // can miss one. A run with an unexpected failure runs once more, alone, and says so.
  for (const [run, result] of results) {
    const failing = run.scenario.checks.filter((c) => !run.expectedFailures.has(c) && !result.checks.get(c)?.pass);
    if (failing.length === 0 && result.exitCode === 0) continue;
    console.log(`${label(run)}: ${failing.join(', ') || `exit ${result.exitCode}`} failed; running it again alone`);
    results.set(run, await runScenario(run, build.programs.get(run.family.define)!));
  }
}, 600_000);

afterAll(() => {
  for (const [run, result] of results) {
    const passed = [...result.checks.values()].filter((c) => c.pass).length;
    console.log(`${label(run)}: ${passed}/${run.scenario.checks.length} checks pass (${(result.wallMs / 1000).toFixed(1)} s)`);
    for (const note of result.notes) console.log(`  TinyGSM workaround: ${note}`);
    if (run.family.restartWorkaround && run.sketchArgs.includes('init')) console.log(`  TinyGSM workaround: ${run.family.restartWorkaround}`);
  }
});

function resultOf(run: Run): RunResult {
  const result = results.get(run);
  if (!result) throw new Error(`${label(run)} did not run (the build or the emulator failed; see the first error)`);
  return result;
}

describe.each(matrix.runs.map((run) => [label(run), run] as const))('TinyGSM %s', (_name, run) => {
  it('runs to the end and prints exactly the checks families.json names', () => {
    const result = resultOf(run);
    const context = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}\ntrace: ${result.trace}`;
    expect(result.exitCode, context).toBe(0);
    expect(result.done, context).toBe(true);
    expect(result.order, context).toEqual(run.scenario.checks);
  });

  it.each(run.scenario.checks)('%s', (check) => {
    const line = resultOf(run).checks.get(check);
    if (!line) throw new Error(`no CHECK line for ${check}`);
    const listed = run.expectedFailures.get(check);
    if (listed) {
      if (line.pass) throw new Error(`${check} passes now (${line.detail}): take it off expectedFailures in families.json (${listed.gap})`);
      return;
    }
    expect(line.pass, `${check}: ${line.detail} (trace: ${resultOf(run).trace})`).toBe(true);
  });
});
