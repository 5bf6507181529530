import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'atbridge-epipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with its stdout read like `| head -1`: the first chunk, then the pipe closes. */
function runUntilFirstChunk(entry: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, entry), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('output closed early (atbridge decode … | head)', () => {
  // A long session: far more decoded output than a pipe buffer holds.
  const log = join(dir, 'long.log');
  writeFileSync(log, Array.from({ length: 40_000 }, (_, i) => `AT+CSQ\r\n+CSQ: ${i % 31},99\r\n\r\nOK\r\n`).join(''));

  for (const entry of ['dist/bin/atbridge.mjs', 'dist/src/cli.js']) {
    it(`${entry}: decode (text and --json) ends quietly, exit 0, no error line`, async () => {
      for (const args of [['decode', log], ['decode', '--json', log]]) {
        const { code, stderr } = await runUntilFirstChunk(entry, args);
        expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
        expect(code).toBe(0);
      }
    });
  }
});
