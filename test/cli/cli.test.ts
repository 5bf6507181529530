import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const atbridge = (...args: string[]) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('atbridge CLI', () => {
  it('--help lists the commands', async () => {
    const { code, stdout } = await atbridge('--help');
    expect(code).toBe(0);
    for (const name of ['demo', 'pub', 'sub', 'nc', 'emulate']) expect(stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it('an unknown option is one line and exit code 2', async () => {
    const { code, stderr } = await atbridge('nc', '--no-such-option');
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^atbridge: unknown option '--no-such-option'/);
  });

  it('an unknown command suggests the nearest one', async () => {
    const { code, stderr } = await atbridge('emulat');
    expect(code).toBe(2);
    expect(stderr).toMatch(/emulate/);
  });
});
