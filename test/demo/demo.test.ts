import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/run-demo.js';

const run = promisify(execFile);

describe('atbridge demo', () => {
  it.each(['sim7600', 'esp-at'] as const)('%s: messages go out and come back through the emulated module, decoded', async (profile) => {
    const lines: string[] = [];
    const summary = await runDemo({ profile, pacing: false, transparent: false, baud: 115200, quiet: false, out: (l) => lines.push(l) });
    expect(summary.received).toEqual(['demo/hello hello from the gateway', 'demo/temp 21.5', 'demo/door closed', 'demo/cmd reboot-at-midnight']);
    expect(summary.atCommands).toBeGreaterThan(5);
    expect(summary.serialBytesToModule).toBeGreaterThan(0);
    const text = lines.join('\n');
    expect(text).toMatch(/→ .*AT\+CIPSEND/);
    expect(text).toMatch(/MQTT CONNECT/);
    expect(text).toMatch(/MQTT PUBLISH \(d0, q1, r0, m\d+, 'demo\/cmd'/);
    expect(text).not.toMatch(/correct horse/);
  });

  it('the CLI runs it end to end in transparent mode and exits 0', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli.js', 'demo', '--no-pacing', '--transparent', '--quiet'], { env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/messages received through the module \(4\)/);
    expect(stdout).toMatch(/demo\/cmd reboot-at-midnight/);
  });

  it('a bad option is one line and exit code 2', async () => {
    const err = (await run(process.execPath, ['dist/src/cli.js', 'demo', '--profile', 'nokia'], { env: { ...process.env, NO_COLOR: '1' } }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')[0]).toBe('atbridge: --profile must be sim7600 or esp-at, not "nokia"');
  });
});
