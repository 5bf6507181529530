import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// families.json, checked: which TinyGSM class runs against which emulated family, with which
// options, which checks each scenario must print, and which of them are known to fail today.

const Kind = z.enum(['cellular', 'wifi']);
const Args = z.array(z.string());

const Family = z.object({
  family: z.string().regex(/^[a-z0-9-]+$/),
  define: z.string().regex(/^TINY_GSM_MODEM_[A-Z0-9_]+$/),
  kind: Kind,
  profile: z.string(),
  sendLimit: z.number().int().positive(),
  emulator: Args,
  sketch: Args,
  /** Where TinyGSM's restart() cannot work against a module that behaves as its manual says: the sketch calls init() instead, and says why. */
  restartWorkaround: z.string().min(1).optional(),
});

const Scenario = z.object({
  scenario: z.string().regex(/^[a-z0-9-]+$/),
  emulator: Args,
  sketch: Args,
  checks: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
});

const ExpectedFailure = z.object({
  family: z.string(),
  scenario: z.string(),
  check: z.string(),
  gap: z.string().regex(/^G\d+$/),
  why: z.string().min(1),
});

const Matrix = z.object({
  $comment: z.array(z.string()).optional(),
  families: z.array(Family).min(1),
  scenarios: z.record(Kind, z.array(Scenario).min(1)),
  expectedFailures: z.array(ExpectedFailure),
});

export type Family = z.infer<typeof Family>;
export type Scenario = z.infer<typeof Scenario>;
export type ExpectedFailure = z.infer<typeof ExpectedFailure>;

export const MATRIX_FILE = join(dirname(fileURLToPath(import.meta.url)), 'families.json');

/** One program run: a family in one scenario, against its own emulator. */
export interface Run {
  family: Family;
  scenario: Scenario;
  /** The sketch's command line after --port/--host/--echo-port. */
  sketchArgs: string[];
  /** `atbridge emulate` options after --profile/--pty/--trace. */
  emulatorArgs: string[];
  expectedFailures: Map<string, ExpectedFailure>;
}

export interface LoadedMatrix {
  runs: Run[];
  expectedFailures: ExpectedFailure[];
}

/** The scenario's sketch arguments, with `--start restart` made `--start init` where the family needs the workaround. */
function startArgs(family: Family, scenario: Scenario): string[] {
  const args = [...scenario.sketch];
  const at = args.indexOf('--start');
  if (family.restartWorkaround && at >= 0 && args[at + 1] === 'restart') args[at + 1] = 'init';
  return args;
}

export function loadMatrix(file = MATRIX_FILE): LoadedMatrix {
  const parsed = Matrix.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const matrix = parsed.data;
  const runs: Run[] = [];
  for (const family of matrix.families) {
    for (const scenario of matrix.scenarios[family.kind] ?? []) {
      const listed = matrix.expectedFailures.filter((x) => x.family === family.family && x.scenario === scenario.scenario);
      runs.push({
        family,
        scenario,
        sketchArgs: ['--send-limit', String(family.sendLimit), ...family.sketch, '--scenario', scenario.scenario, ...startArgs(family, scenario)],
        emulatorArgs: [...family.emulator, ...scenario.emulator],
        expectedFailures: new Map(listed.map((x) => [x.check, x])),
      });
    }
  }
  // An entry that names nothing would hide nothing and never be noticed: refuse it.
  for (const x of matrix.expectedFailures) {
    const run = runs.find((r) => r.family.family === x.family && r.scenario.scenario === x.scenario);
    if (!run || !run.scenario.checks.includes(x.check)) {
      throw new Error(`${file}: expectedFailures names ${x.family}/${x.scenario}/${x.check}, which is not a check of the matrix`);
    }
  }
  return { runs, expectedFailures: matrix.expectedFailures };
}
