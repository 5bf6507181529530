import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll } from '../mqtt/cli-support.js';
import { JTL_COLUMNS_2_13 } from '../../src/probe/jtl.js';

/** Debian's jmeter package (2.13): its jars, and a JDK for the single-file loader. */
const JMETER_HOME = process.env.JMETER_HOME ?? '/usr/share/jmeter';
const LOADER = fileURLToPath(new URL('./jmeter/LoadJtl.java', import.meta.url));
const CLASSPATH = [`${JMETER_HOME}/lib/ext/*`, `${JMETER_HOME}/lib/*`, '/usr/share/java/*'].join(':');
const available = existsSync(`${JMETER_HOME}/lib/ext/ApacheJMeter_core.jar`) && existsSync('/usr/bin/javac');

let broker: Mosquitto;
let dir: string;
beforeAll(async () => {
  broker = await startMosquitto({ persistence: false });
  dir = mkdtempSync(join(tmpdir(), 'atbridge-probe-jmeter-'));
});
afterAll(async () => {
  killAll();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs JMeter's own CSV reader (CSVSaveService.processSamples) on FILE: the samples it read, or its error. */
async function jmeterLoad(file: string): Promise<{ rows: string[][]; loaded: number | undefined; output: string }> {
  const run = await promisify(execFile)('java', ['-cp', CLASSPATH, LOADER, JMETER_HOME, file], { maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
  const lines = run.stdout.split('\n');
  const loaded = lines.find((l) => l.startsWith('LOADED '));
  return {
    rows: lines.filter((l) => l.startsWith('SAMPLE\t')).map((l) => l.split('\t').slice(1)),
    loaded: loaded ? Number(loaded.slice(7)) : undefined,
    output: `${run.stdout}\n${run.stderr}`,
  };
}

describe.runIf(cliBuilt() && available)('probe --jtl loads in the JMeter Debian packages (2.13)', () => {
  it('--jtl-version 2.13: JMeter reads every sample with its label, times, success and bytes', async () => {
    const file = join(dir, 'probe-2.13.jtl');
    const res = await atbridge(['probe', '--device', 'emu:sim7600?pacing=0', '-h', '127.0.0.1', '-p', String(broker.port), '--count', '6', '--rate', '50', '-q', '0,1,2', '--jtl', file, '--jtl-version', '2.13', '--quiet']);
    expect(res.code).toBe(0);
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(text[0]).toBe(JTL_COLUMNS_2_13.join(','));
    const ours = text.slice(1).map((l) => l.split(','));
    const jmeter = await jmeterLoad(file);
    expect(jmeter.loaded, jmeter.output.slice(-2000)).toBe(ours.length);
    expect(ours.length).toBe(1 + 6 + 6);
    const col = (name: string) => JTL_COLUMNS_2_13.indexOf(name as never);
    // JMeter's reading of each row, field by field: label, timeStamp, elapsed, Latency, success, responseCode, bytes, threadName, grpThreads.
    expect(jmeter.rows.map((r) => r.slice(0, 9))).toEqual(
      ours.map((r) => [r[col('label')], r[col('timeStamp')], r[col('elapsed')], r[col('Latency')], r[col('success')], r[col('responseCode')], r[col('bytes')], r[col('threadName')], r[col('grpThreads')]]),
    );
  }, 60_000);

  it('JMeter 2.13 cannot read the JMeter 5 header (it predates sentBytes): why --jtl-version exists', async () => {
    const file = join(dir, 'probe-5.jtl');
    const res = await atbridge(['probe', '-h', '127.0.0.1', '-p', String(broker.port), '--count', '2', '--rate', '50', '--jtl', file, '--quiet']);
    expect(res.code).toBe(0);
    const jmeter = await jmeterLoad(file);
    expect(jmeter.loaded).toBeUndefined();
    expect(jmeter.output).toMatch(/Error parsing field 'timeStamp'/);
  }, 60_000);
});
