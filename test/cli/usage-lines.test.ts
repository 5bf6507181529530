import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Bad --pty, a port in use, a mistyped required option: one line (plus a fix), exit 2, no internals. */
const CLI = resolve(process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js');

function atbridge(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('usage lines', () => {
  it('--pty in a directory that does not exist: one line, exit 2 (emulate and record), no socat text', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'atb-pty-')), 'nodir');
    const pty = join(missing, 'tty');
    for (const args of [['emulate', '--profile', 'sim7600', '--pty', pty], ['record', '--device', 'emu:esp-at', '--pty', pty]]) {
      const r = await atbridge(...args);
      expect(r.stderr.trim().split('\n')).toEqual([`atbridge: cannot write ${pty}: directory ${missing} does not exist`]);
      expect(r.code).toBe(2);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('emulate --listen on a port in use: the reason in words and a fix, exit 2', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    try {
      const r = await atbridge('emulate', '--profile', 'sim7600', '--listen', `127.0.0.1:${port}`);
      expect(r.stderr.trim().split('\n')).toEqual([`atbridge: cannot listen on 127.0.0.1:${port}: the port is already in use`, expect.stringMatching(/^ {2}fix: pick another port/)]);
      expect(r.code).toBe(2);
    } finally {
      server.close();
    }
  });

  it('a mistyped required option is reported as unknown (with the suggestion), not as the required one missing', async () => {
    const r = await atbridge('emulate', '--profle', 'sim7600');
    expect(r.stderr).toMatch(/^atbridge: unknown option '--profle'/);
    expect(r.stderr).toMatch(/Did you mean --profile\?/);
    expect(r.code).toBe(2);
    const missing = await atbridge('emulate', '--pty', '/tmp/atb-never');
    expect(missing.stderr.trim().split('\n')).toEqual(["atbridge: required option '--profile <id>' not specified"]);
    expect(missing.code).toBe(2);
  });

  it('help texts list every family with a firmware profile, and `help pub` prints pub\'s options', async () => {
    const families = readdirSync('firmware-profiles')
      .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json') && f !== '3gpp.json')
      .map((f) => f.slice(0, -5));
    expect(families.length).toBeGreaterThan(2);
    const top = await atbridge('--help');
    const nc = await atbridge('nc', '--help');
    for (const id of families) {
      expect(top.stdout.replace(/\s+/g, ' ')).toContain(id);
      expect(nc.stdout.replace(/\s+/g, ' ')).toContain(`emu:${id}`);
    }
    const help = await atbridge('help', 'pub');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: atbridge pub /m);
    expect(help.stdout).toMatch(/^ -m text/m);
  });
});
