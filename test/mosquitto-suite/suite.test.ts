/**
 * The fast subset of mosquitto's own client tests (the whole suite: `npm run test:mosquitto`): the
 * first case of every test file against `atbridge pub/sub/rr` directly, and a publish and a
 * subscribe case through the emulated SIM7600. Real mosquitto brokers, the files unchanged.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRoot, BUNDLE, KNOWN_FAILING, portsNeeded, runFile, SUITE_DIR, suiteFiles, type CaseResult } from './harness.js';

const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ready = hasPython && existsSync(SUITE_DIR) && existsSync(BUNDLE) && existsSync('/usr/sbin/mosquitto');

/**
 * npm test shares two cores with the rest of the suite (a load of 10 or more): each case gets 2 s
 * more than the 0.1 s the files give a client before they publish (3 s through the module). The
 * full run (`npm run test:mosquitto`) keeps the files' own timing for direct mode.
 */
const SHARED_MACHINE_ALLOWANCE_S = 2;
const DEVICE_ALLOWANCE_S = 3;

/** Ports for the suite's brokers: a block of their own, away from the ones other tests pick. */
let nextPort = 24000 + (process.pid % 50) * 40;
const ports = (file: string) => Array.from({ length: portsNeeded(file) }, () => nextPort++);

const describeIf = ready ? describe : describe.skip;

describeIf('mosquitto client tests (fast subset)', () => {
  const roots: Array<{ cleanup: () => void }> = [];
  let direct = '';
  let device = '';
  beforeAll(() => {
    const d = buildRoot('direct');
    const m = buildRoot('device');
    roots.push(d, m);
    direct = d.root;
    device = m.root;
  });
  afterAll(() => roots.forEach((r) => r.cleanup()));

  const failures = (results: CaseResult[]) =>
    results.filter((r) => (r.result === 'fail') !== (`${r.file}:${r.line}` in KNOWN_FAILING)).map((r) => `${r.file}:${r.line} ${r.call}\n${r.output.slice(0, 600)}`);

  it('the first case of every file passes directly', { timeout: 240_000 }, async () => {
    const files = suiteFiles();
    expect(files.length).toBeGreaterThanOrEqual(37);
    const results: CaseResult[] = [];
    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) results.push(...(await runFile(file, direct, ports(file), [0], undefined, SHARED_MACHINE_ALLOWANCE_S)));
    };
    await Promise.all([worker(), worker()]);
    expect(results.length).toBe(files.length);
    expect(failures(results)).toEqual([]);
  });

  it('publish and subscribe cases pass through the emulated module', { timeout: 120_000 }, async () => {
    const results = [
      ...(await runFile('03-publish-qos1.py', device, ports('03-publish-qos1.py'), [1], undefined, DEVICE_ALLOWANCE_S)),
      ...(await runFile('02-subscribe-qos1.py', device, ports('02-subscribe-qos1.py'), [1], undefined, DEVICE_ALLOWANCE_S)),
      ...(await runFile('04-rr-qos1.py', device, ports('04-rr-qos1.py'), [2], undefined, DEVICE_ALLOWANCE_S)),
    ];
    expect(results.length).toBe(3);
    expect(failures(results)).toEqual([]);
  });
});
