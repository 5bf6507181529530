import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { z } from 'zod';
import { AtbridgeError, ExitCode } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';
import type { Profile } from './schema.js';
import { ProfileSchema } from './schema.js';

export const PROFILE_DIR = join(PACKAGE_ROOT, 'firmware-profiles');

const cache = new Map<string, Profile>();

/** Profile ids shipped in firmware-profiles/. */
export function listProfileIds(): string[] {
  return readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/**
 * Loads and validates a profile by id (`sim7600`) or by path (`./my-module.json`).
 * A bad profile is one clear error naming the file and the field.
 */
export function loadProfile(idOrPath: string): Profile {
  const cached = cache.get(idOrPath);
  if (cached) return cached;
  const isPath = idOrPath.includes('/') || idOrPath.endsWith('.json');
  const file = isPath ? idOrPath : join(PROFILE_DIR, `${idOrPath}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AtbridgeError('profile-missing', `no firmware profile "${idOrPath}"`, {
      exitCode: ExitCode.usage,
      fix: `use one of: ${listProfileIds().join(', ')}, auto, or a path to a profile JSON file`,
    });
  }
  const profile = parseProfile(text, displayPath(file));
  cache.set(idOrPath, profile);
  return profile;
}

/** Validates profile JSON text; `file` only names the source in errors. */
export function parseProfile(text: string, file: string): Profile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AtbridgeError('profile-invalid', `${file}: not valid JSON (${(err as Error).message})`, { exitCode: ExitCode.badInput });
  }
  const parsed = ProfileSchema.safeParse(json);
  if (!parsed.success) {
    throw new AtbridgeError('profile-invalid', `${file}: ${describeIssue(parsed.error.issues[0])}`, {
      exitCode: ExitCode.badInput,
      detail: { issues: parsed.error.issues.length },
    });
  }
  checkReferences(parsed.data, file);
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid profile';
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `field ${field}: ${issue.message}`;
}

/** Scripts may only name commands the profile defines; tables named by codes must exist. */
function checkReferences(profile: Profile, file: string): void {
  for (const [script, steps] of Object.entries(profile.scripts)) {
    steps.forEach((name, i) => {
      if (!profile.commands[name]) {
        throw new AtbridgeError('profile-invalid', `${file}: field scripts.${script}.${i}: unknown command "${name}"`, {
          exitCode: ExitCode.badInput,
        });
      }
    });
  }
  const tableRefs: [string, string | undefined][] = [
    ...profile.results.map((r, i) => [`results.${i}.table`, r.table] as [string, string | undefined]),
    ...profile.urcs.map((u, i) => [`urcs.${i}.table`, u.table] as [string, string | undefined]),
    ...Object.entries(profile.commands).map(([n, c]) => [`commands.${n}.awaitUrc.table`, c.awaitUrc?.table] as [string, string | undefined]),
  ];
  for (const [field, table] of tableRefs) {
    if (table !== undefined && !profile.tables[table]) {
      throw new AtbridgeError('profile-invalid', `${file}: field ${field}: unknown table "${table}"`, { exitCode: ExitCode.badInput });
    }
  }
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}
