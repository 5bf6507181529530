import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * An output path (--trace, --trace-dir, --html, --pcap, --out) that cannot be written is one line
 * and exit 2 before any work starts; an input file that cannot be read is one line and exit 23.
 * The real CLI is spawned; a run that starts working anyway is killed after 20 s (and fails).
 */
const CLI = resolve(process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js');
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function atbridge(args: string[], options: { uid?: number; stdin?: string } = {}): Promise<Result> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000, cwd: tmpdir(), ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}) },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atb-out-'));
  chmodSync(dir, 0o755);
  return dir;
}

const oneLine = (r: Result) => r.stderr.trim().split('\n');

describe('an unwritable output path is refused before any work', () => {
  const dir = scratch();
  const missing = join(dir, 'no-such-dir');
  const trace = join(missing, 't.jsonl');
  const why = `atbridge: cannot write ${trace}: directory ${missing} does not exist`;
  const capture = join(dir, 'capture.txt');
  writeFileSync(capture, '> AT\r\n< OK\r\n');
  const config = join(dir, 'bridge.conf');
  writeFileSync(config, `trace ${trace}\n`);

  const cases: [string, string[], string][] = [
    ['nc --trace', ['nc', '--device', 'emu:sim7600', '--trace', trace, '127.0.0.1', '1'], why],
    ['nc --trace-dir', ['nc', '--device', 'emu:sim7600', '--trace-dir', join(dir, 'file-not-dir', 'd'), '127.0.0.1', '1'], `atbridge: cannot write ${join(dir, 'file-not-dir', 'd')}: ${join(dir, 'file-not-dir')} is not a directory`],
    ['pub --trace', ['pub', '--device', 'emu:sim7600', '--trace', trace, '-t', 'a', '-m', 'b'], why],
    ['sub --trace', ['sub', '--device', 'emu:sim7600', '--trace', trace, '-t', 'a', '-C', '1'], why],
    ['doctor --device --trace', ['doctor', '--device', 'emu:sim7600', '--trace', trace], why],
    ['doctor --log --html', ['doctor', '--log', capture, '--html', join(missing, 'p.html')], `atbridge: cannot write ${join(missing, 'p.html')}: directory ${missing} does not exist`],
    ['emulate --trace', ['emulate', '--profile', 'sim7600', '--pty', join(dir, 'emu-pty'), '--trace', trace], why],
    ['record --trace', ['record', '--device', 'emu:esp-at', '--pty', join(dir, 'rec-pty'), '--trace', trace], why],
    ['bridge --trace-dir', ['bridge', '--device', 'emu:sim7600', '--remote', 'mqtt://127.0.0.1:1', '--trace-dir', join(dir, 'file-not-dir', 'd')], `atbridge: cannot write ${join(dir, 'file-not-dir', 'd')}: ${join(dir, 'file-not-dir')} is not a directory`],
    ['bridge trace in the config file', ['bridge', '--config', config, '--device', 'emu:sim7600', '--remote', 'mqtt://127.0.0.1:1', '--topic', 'a/# out 1', '--print-config'], why],
    ['decode --html', ['decode', capture, '--html', join(missing, 'p.html')], `atbridge: cannot write ${join(missing, 'p.html')}: directory ${missing} does not exist`],
    ['decode --pcap', ['decode', capture, '--pcap', dir], `atbridge: cannot write ${dir}: it is a directory`],
    ['replay --to --out', ['replay', capture, '--to', 'emu:sim7600', '--out', join(missing, 'r.jsonl')], `atbridge: cannot write ${join(missing, 'r.jsonl')}: directory ${missing} does not exist`],
  ];
  writeFileSync(join(dir, 'file-not-dir'), 'x');

  for (const [name, args, line] of cases) {
    it(`${name}: one line, exit 2`, async () => {
      const r = await atbridge(args);
      expect(oneLine(r)).toEqual([line]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    });
  }

  it('nothing was made: no pty links, no trace', () => {
    expect(existsSync(join(dir, 'emu-pty'))).toBe(false);
    expect(existsSync(join(dir, 'rec-pty'))).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });

  it('a directory without write permission: "permission denied"', async () => {
    const locked = join(scratch(), 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    const uid = asRoot ? { uid: NOBODY } : {};
    const file = await atbridge(['nc', '--device', 'emu:sim7600', '--trace', join(locked, 't.jsonl'), '127.0.0.1', '1'], uid);
    expect(oneLine(file)).toEqual([`atbridge: cannot write ${join(locked, 't.jsonl')}: permission denied in ${locked}`]);
    expect(file.code).toBe(2);
    const tree = await atbridge(['nc', '--device', 'emu:sim7600', '--trace-dir', join(locked, 'a', 'b'), '127.0.0.1', '1'], uid);
    expect(oneLine(tree)).toEqual([`atbridge: cannot write ${join(locked, 'a', 'b')}: permission denied in ${locked}`]);
    expect(tree.code).toBe(2);
  });
});

describe('an unreadable input file', () => {
  it('decode, doctor --log and replay say "cannot read F: permission denied", exit 23', async () => {
    const file = join(scratch(), 'secret.txt');
    writeFileSync(file, '> AT\r\n< OK\r\n');
    chmodSync(file, 0o000);
    const uid = asRoot ? { uid: NOBODY } : {};
    for (const args of [['decode', file], ['doctor', '--log', file], ['replay', file, '--to', 'emu:sim7600']]) {
      const r = await atbridge(args, uid);
      expect(oneLine(r)).toEqual([`atbridge: cannot read ${file}: permission denied`]);
      expect(r.code).toBe(23);
      expect(r.stdout).toBe('');
    }
  });
});
