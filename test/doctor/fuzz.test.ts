import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCapture } from '../../src/decode/decode-capture.js';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { loadCapture } from '../../src/doctor/load-capture.js';
import { AtbridgeError, ExitCode } from '../../src/errors.js';
import { LOGS_DIR } from '../helpers/reference-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'atbridge-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = readdirSync(LOGS_DIR).filter((f) => f.endsWith('.txt') && f !== 'INDEX.md').sort();

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'cut'; at: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'text'; at: number; text: string };

/** One change to a file's bytes: what a bad copy, a wrong baud rate or a truncated paste does. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 2, max: 40 }) }),
  fc.record({ op: fc.constant('text' as const), at: fc.nat(), text: fc.constantFrom('```', '> ', 'AT+CMQTTCONNECT=0,"tcp://x:1",60,1\n', '+CMQTTCONNECT: 0,', 'D (10) uart-rx: 0x3ffc963c   0d 0a 52', '\x1b[0m<dbg> modem_chat: ', '### Unhandled: ', 'AT< ', '\r', '\n\n\n', '\x00\x00', 'b\'AT\\r', '(', '"', '+IPD,4:', '+IPD,99999:', 'CONNECT\n', '+++') }),
);

function mutate(data: Buffer, steps: readonly Mutation[]): Buffer {
  let out = Buffer.from(data);
  for (const m of steps) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.op === 'flip' && out.length > 0) out[at % out.length] = m.byte;
    else if (m.op === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
    else if (m.op === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
    else if (m.op === 'cut') out = out.subarray(0, at);
    else if (m.op === 'repeat') out = Buffer.concat([out.subarray(0, at), ...Array.from({ length: m.times }, () => out.subarray(at, at + m.length)), out.subarray(at)]);
    else if (m.op === 'text') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.text, 'latin1'), out.subarray(at)]);
  }
  return out;
}

/** Runs decode and doctor --log over a file; bad input may only end in a one-line AtbridgeError, exit code 23. */
async function readBoth(path: string): Promise<void> {
  try {
    const decoded = await decodeCapture(path);
    for await (const batch of decoded.batches) void batch;
    const capture = await loadCapture(path);
    await analyzeEvents(capture.events, { profile: capture.profile, perLine: capture.perLine });
  } catch (err) {
    if (!(err instanceof AtbridgeError)) throw err;
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(err.message).not.toMatch(/\n/);
  }
}

const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms (a hang)`)), ms).unref())]);

describe('decode and doctor never throw or hang on mutated corpus files (fast-check, fixed seed)', () => {
  it('200 mutated logs: no exception but a one-line bad-input error, each read within 5 s', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 6 }), async (file, steps) => {
        const path = join(dir, `m${n++}.txt`);
        writeFileSync(path, mutate(readFileSync(join(LOGS_DIR, file)), steps));
        await within(5000, readBoth(path));
      }),
      { seed: 20_2026, numRuns: 200 },
    );
  }, 120_000);

  it('bad input through the CLI: one line on stderr, exit code 23, for decode and doctor --log', () => {
    const cli = new URL('../../dist/src/cli.js', import.meta.url).pathname;
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const blank = join(dir, 'blank.txt');
    writeFileSync(blank, '\n \n\t\n');
    for (const file of [empty, blank, join(dir, 'missing.txt')]) {
      for (const args of [['decode', file], ['doctor', '--log', file]]) {
        const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
        expect(run.status, `${args.join(' ')}`).toBe(23);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
      }
    }
  });
});
