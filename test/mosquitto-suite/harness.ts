/**
 * Runs mosquitto's own client tests (../shared/thirdparty/mosquitto-client-tests, unchanged) against
 * `atbridge pub`, `sub` and `rr`, case by case (cases.py), in a BUILD_ROOT laid out as the tests
 * expect: client/mosquitto_{pub,sub,rr} and src/mosquitto.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from test/mosquitto-suite or dist/test/mosquitto-suite. */
export const REPO = existsSync(join(here, '../../package.json')) ? resolve(here, '../..') : resolve(here, '../../..');
export const SUITE_DIR = resolve(REPO, process.env.MOSQUITTO_TESTS ?? '../shared/thirdparty/mosquitto-client-tests', 'develop/test/client');
const CASES_PY = join(REPO, 'test/mosquitto-suite/cases.py');
/** The single bundled entry `npm run build` writes (esbuild). */
export const BUNDLE = join(REPO, 'dist/bin/atbridge.mjs');

/**
 * reference: the installed mosquitto 2.0.11 clients; direct: atbridge talking TCP itself;
 * device: atbridge through the emulated SIM7600 (the module's bring-up is in each case's time).
 */
export type Mode = 'reference' | 'direct' | 'device';
export const DEVICE = 'emu:sim7600?pacing=0';
/** Seconds added to the 0.1 s a case gives a client before it publishes, per mode (the module's bring-up). */
export const ALLOWANCE_S: Record<Mode, number> = { reference: 0, direct: 0, device: 1 };

export interface CaseResult {
  file: string;
  index: number;
  line: number;
  call: string;
  result: 'pass' | 'fail' | 'skip';
  output: string;
}

/**
 * Cases that fail for a known reason in every mode (file:line of the do_test call → why). The README
 * lists them; the fast subset expects them to fail, so a fix shows up as a test to update.
 */
export const KNOWN_FAILING: Record<string, string> = {
  '02-subscribe-format-json-properties.py:107':
    "mosquitto 2.1's %j: user-properties as an array of one-pair objects and the broker's topic-alias; atbridge prints 2.0.11's object (as the installed mosquitto_sub does)",
  "03-publish-socks.py:95": "the name ip6-localhost does not resolve on this machine (mosquitto_pub fails it too)",
};

/** Lays out a BUILD_ROOT for one mode; the caller removes it with cleanup(). */
export function buildRoot(mode: Mode): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), `atbridge-mosq-${mode}-`));
  mkdirSync(join(root, 'client'));
  mkdirSync(join(root, 'src'));
  symlinkSync(process.env.MOSQUITTO_BROKER ?? '/usr/sbin/mosquitto', join(root, 'src/mosquitto'));
  // A copy of the bundle, so a rebuild during a long run cannot pull it away (inside dist/: it finds package.json above it).
  const bundleCopy = join(REPO, 'dist', `mosquitto-suite-${process.pid}-${mode}`);
  if (mode !== 'reference') cpSync(dirname(BUNDLE), bundleCopy, { recursive: true });
  for (const cmd of ['pub', 'sub', 'rr']) {
    const target = join(root, 'client', `mosquitto_${cmd}`);
    if (mode === 'reference') {
      symlinkSync(`/usr/bin/mosquitto_${cmd}`, target);
      continue;
    }
    // The tests run clients with an empty PATH: name node by its absolute path.
    const device = mode === 'device' ? ` --device '${DEVICE}'` : '';
    writeFileSync(target, `#!/bin/sh\nexec ${process.execPath} ${join(bundleCopy, 'atbridge.mjs')} mosquitto_${cmd}${device} "$@"\n`);
    chmodSync(target, 0o755);
  }
  return {
    root,
    cleanup: () => {
      rmSync(root, { recursive: true, force: true });
      rmSync(bundleCopy, { recursive: true, force: true });
    },
  };
}

/** The suite's test files (02-subscribe-*, 03-publish-*, 04-rr-*). */
export function suiteFiles(): string[] {
  return readdirSync(SUITE_DIR)
    .filter((f) => /^0[234]-.*\.py$/.test(f))
    .sort();
}

/** Runs the given cases (all when omitted) of one file; ports are the loopback ports the file may use. */
export function runFile(file: string, root: string, ports: number[], cases?: number[], onCase?: (r: CaseResult) => void, allowanceS = 0): Promise<CaseResult[]> {
  const cwd = mkdtempSync(join(tmpdir(), 'atbridge-mosq-case-'));
  const args = [CASES_PY, join(SUITE_DIR, file), ports.join(','), cases ? cases.join(',') : ''];
  const child = spawn('python3', args, { cwd, env: { ...process.env, BUILD_ROOT: root, MOSQ_SUITE_ALLOWANCE: String(allowanceS) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const results: CaseResult[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const r = { file, ...(JSON.parse(line) as Omit<CaseResult, 'file'>) };
      results.push(r);
      onCase?.(r);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(cwd, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`cases.py ${file} exited ${code}: ${stderr.slice(-500)}`));
      else resolvePromise(results);
    });
  });
}

/** How many ports a file needs (mosquitto's test.py says: the ws and socks ones take two). */
export function portsNeeded(file: string): number {
  return /-ws|socks/.test(file) ? 2 : 1;
}
