import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// Builds the TinyGSM sketches into Linux programs with EpoxyDuino's Arduino core and g++, one per
// TinyGSM modem define, cached in build/thirdparty/<hash of every input>/ so a second run
// compiles nothing.

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../..');

/** Where TinyGSM/ and EpoxyDuino/ are (../shared/thirdparty next to the repository). */
export function thirdPartyDir(): string {
  return resolve(process.env.ATBRIDGE_THIRDPARTY ?? join(REPO, '../shared/thirdparty'));
}

export const BUILD_ROOT = join(REPO, 'build/thirdparty');
const SKETCH = join(HERE, 'sketches/modem-checks/modem-checks.ino');
const SUPPORT = join(HERE, 'support');

// The parts of EpoxyDuino's core a sketch that talks to a serial port needs.
const CORE_SOURCES = ['Arduino.cpp', 'Print.cpp', 'Stream.cpp', 'WString.cpp', 'StdioSerial.cpp', 'main.cpp', 'IPAddress.cpp', 'avr_stdlib.cpp'];

// -O0: the programs only wait on a serial port, and a clean build must stay quick.
const FLAGS = ['-std=gnu++11', '-O0', '-g0', '-DEPOXY_DUINO', '-DEPOXY_CORE_AVR', '-DARDUINO=100', '-DUNIX_HOST_DUINO'];

interface Sources {
  tinygsm: string;
  epoxyCore: string;
}

function sources(): Sources {
  const root = thirdPartyDir();
  const found = { tinygsm: join(root, 'TinyGSM/src'), epoxyCore: join(root, 'EpoxyDuino/cores/epoxy') };
  for (const dir of Object.values(found)) {
    if (!existsSync(dir)) throw new Error(`${dir} not found: put TinyGSM and EpoxyDuino in ${root} or set ATBRIDGE_THIRDPARTY`);
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** One hash over the compiler, the flags and every file that can reach a program. */
async function inputsHash(src: Sources): Promise<string> {
  const hash = createHash('sha256');
  const { stdout } = await run('g++', ['--version']).catch(() => {
    throw new Error('g++ not found: the TinyGSM harness compiles with it (apt-get install g++)');
  });
  hash.update(stdout).update(FLAGS.join(' ')).update(CORE_SOURCES.join(' '));
  for (const dir of [src.tinygsm, src.epoxyCore, SUPPORT, dirname(SKETCH)]) {
    for (const file of filesUnder(dir)) hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Runs jobs with at most `limit` at a time. */
async function inParallel<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

async function gxx(args: string[]): Promise<void> {
  try {
    await run('g++', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`g++ ${args.join(' ')}\n${err.stderr ?? err.message}`);
  }
}

/** Writes to a temporary name first, so an interrupted build never leaves a file that looks done. */
async function produce(target: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(target)) return;
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await make(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, target);
}

export function programName(define: string): string {
  return `modem-checks-${define.replace(/^TINY_GSM_MODEM_/, '').toLowerCase()}`;
}

export interface BuildResult {
  /** TinyGSM define → path of its program. */
  programs: Map<string, string>;
  /** How many compiler or linker runs this call needed (0 when everything was cached). */
  compiled: number;
  dir: string;
}

/** Builds (or finds in the cache) one program per TinyGSM modem define. */
export async function buildPrograms(defines: readonly string[]): Promise<BuildResult> {
  const src = sources();
  const dir = join(BUILD_ROOT, await inputsHash(src));
  const objects = join(dir, 'obj');
  mkdirSync(objects, { recursive: true });
  // Builds of older inputs go; so the cache holds one build, not one per edit.
  for (const old of readdirSync(BUILD_ROOT)) {
    if (/^[0-9a-f]{16}$/.test(old) && old !== basename(dir)) rmSync(join(BUILD_ROOT, old), { recursive: true, force: true });
  }

  const include = [`-I${SUPPORT}`, `-I${src.epoxyCore}`, `-I${src.tinygsm}`];
  const programs = new Map(defines.map((define) => [define, join(dir, programName(define))] as const));
  const missing = [...programs].filter(([, path]) => !existsSync(path));
  if (missing.length === 0) return { programs, compiled: 0, dir };

  let compiled = 0;
  const compile = (source: string, object: string, extra: string[] = []) => () =>
    produce(object, async (tmp) => {
      compiled++;
      await gxx([...FLAGS, ...extra, ...include, '-c', source, '-o', tmp]);
    });
  const core = [...CORE_SOURCES.map((name) => join(src.epoxyCore, name)), join(SUPPORT, 'SerialPortStream.cpp')];
  const coreObjects = core.map((source) => join(objects, `${basename(source)}.o`));
  const sketchObjects = missing.map(([define]) => join(objects, `${programName(define)}.o`));
  const limit = Math.max(1, availableParallelism());
  await inParallel(
    [
      ...core.map((source, i) => compile(source, coreObjects[i]!)),
      ...missing.map(([define], i) => compile(SKETCH, sketchObjects[i]!, [`-D${define}`, '-x', 'c++'])),
    ],
    limit,
  );
  await inParallel(
    missing.map(([, program], i) => () =>
      produce(program, async (tmp) => {
        compiled++;
        await gxx(['-o', tmp, sketchObjects[i]!, ...coreObjects]);
      }),
    ),
    limit,
  );
  return { programs, compiled, dir };
}
