import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import { AtbridgeError, ExitCode } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';
import { isObject, mergeJson, originOf, recordOrigins, type Json, type JsonObject, type Origins } from './compose.js';
import { checkRoles } from './roles.js';
import type { Profile } from './schema.js';
import { ProfileSchema } from './schema.js';

export const PROFILE_DIR = join(PACKAGE_ROOT, 'firmware-profiles');

const cache = new Map<string, Profile>();

/** Profile ids shipped in firmware-profiles/ that name a module (abstract bases left out). */
export function listProfileIds(): string[] {
  return allProfileFiles().filter((id) => !isAbstract(id));
}

/** Abstract base profiles (`3gpp`): others `extends` them; they do not name a module. */
export function listBaseIds(): string[] {
  return allProfileFiles().filter((id) => isAbstract(id));
}

function allProfileFiles(): string[] {
  return readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

function isAbstract(id: string): boolean {
  try {
    const json = JSON.parse(readFileSync(join(PROFILE_DIR, `${id}.json`), 'utf8')) as Json;
    return isObject(json) && json.abstract === true;
  } catch {
    return false;
  }
}

/**
 * Loads and validates a profile by id (`sim7600`) or by path (`./my-module.json`), its `extends`
 * chain merged first. A bad profile is one clear error naming the file and the field.
 */
export function loadProfile(idOrPath: string): Profile {
  const cached = cache.get(idOrPath);
  if (cached) return cached;
  const file = resolveFile(idOrPath);
  const text = readText(file, idOrPath);
  const profile = parseProfile(text, displayPath(file), dirname(file));
  cache.set(idOrPath, profile);
  return profile;
}

/**
 * Validates profile JSON text; `file` names the source in errors. An `extends` is looked up by id
 * in firmware-profiles/ (or as a path relative to `dir`).
 */
export function parseProfile(text: string, file: string, dir: string = PROFILE_DIR): Profile {
  const own = parseJson(text, file);
  const origins: Origins = new Map();
  const merged = resolveExtends(own, file, dir, origins, [file]);
  if (merged.abstract === true && own.abstract === true) {
    throw new AtbridgeError('profile-invalid', `${file}: is an abstract base profile: a module profile "extends" it`, { exitCode: ExitCode.badInput });
  }
  if (own.abstract === undefined) delete merged.abstract;
  if (own.extends !== undefined && origins.get('id') !== file) {
    throw invalid(file, 'id', 'a profile that extends another must set its own id');
  }
  const parsed = ProfileSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? originOf(issue.path, origins, file) : file;
    throw new AtbridgeError('profile-invalid', `${where}: ${describeIssue(issue, merged)}${where !== file ? ` (merged into ${file})` : ''}`, {
      exitCode: ExitCode.badInput,
      detail: { issues: parsed.error.issues.length },
    });
  }
  checkRoles(parsed.data, file);
  checkReferences(parsed.data, file);
  return parsed.data;
}

/** The merged JSON of a profile and its bases, before validation (for tools and tests). */
export function composeProfileJson(idOrPath: string): JsonObject {
  const file = resolveFile(idOrPath);
  const name = displayPath(file);
  return resolveExtends(parseJson(readText(file, idOrPath), name), name, dirname(file), new Map(), [name]);
}

function resolveExtends(own: JsonObject, file: string, dir: string, origins: Origins, chain: string[]): JsonObject {
  const parent = own.extends;
  if (parent === undefined) {
    recordOrigins(own, '', file, origins);
    return own;
  }
  if (typeof parent !== 'string') throw invalid(file, 'extends', 'must be the id of a base profile (a string)');
  const parentFile = resolveFile(parent, dir);
  const parentName = displayPath(parentFile);
  if (chain.includes(parentName)) throw invalid(file, 'extends', `"${parent}" extends back to this file (${[...chain, parentName].join(' → ')})`);
  let parentText: string;
  try {
    parentText = readFileSync(parentFile, 'utf8');
  } catch {
    throw invalid(file, 'extends', `no base profile "${parent}" (looked for ${parentName})`);
  }
  const base = resolveExtends(parseJson(parentText, parentName), parentName, dirname(parentFile), origins, [...chain, parentName]);
  const merged = mergeJson(base, own, '', file, origins) as JsonObject;
  // The chain, nearest base first, stays readable in the merged profile.
  merged.extends = parent;
  return merged;
}

/** An id names a file in firmware-profiles/; a path is taken relative to `dir` (the cwd for a user's path). */
function resolveFile(idOrPath: string, dir: string = process.cwd()): string {
  const isPath = idOrPath.includes('/') || idOrPath.endsWith('.json');
  if (!isPath) return join(PROFILE_DIR, `${idOrPath}.json`);
  return isAbsolute(idOrPath) ? idOrPath : join(dir, idOrPath);
}

function readText(file: string, idOrPath: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new AtbridgeError('profile-missing', `no firmware profile "${idOrPath}"`, {
      exitCode: ExitCode.usage,
      fix: `use one of: ${listProfileIds().join(', ')}, auto, or a path to a profile JSON file`,
    });
  }
}

function parseJson(text: string, file: string): JsonObject {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AtbridgeError('profile-invalid', `${file}: not valid JSON (${(err as Error).message})`, { exitCode: ExitCode.badInput });
  }
  if (!isObject(json as Json)) throw new AtbridgeError('profile-invalid', `${file}: field (top level): a profile is a JSON object`, { exitCode: ExitCode.badInput });
  return json as JsonObject;
}

function invalid(file: string, field: string, message: string): AtbridgeError {
  return new AtbridgeError('profile-invalid', `${file}: field ${field}: ${message}`, { exitCode: ExitCode.badInput });
}

function describeIssue(issue: z.core.$ZodIssue | undefined, merged: JsonObject): string {
  if (!issue) return 'invalid profile';
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `field ${field}${entryName(issue.path, merged)}: ${issue.message}`;
}

/** Merged lists renumber entries: name the entry (`urcs entry "RDY"`) so it can be found in its file. */
function entryName(path: readonly PropertyKey[], merged: JsonObject): string {
  let node: Json | undefined = merged;
  let named = '';
  for (let i = 0; i < path.length && node !== undefined; i++) {
    const key = path[i]!;
    if (Array.isArray(node) && typeof key === 'number') {
      node = node[key];
      if (isObject(node) && typeof node.name === 'string') named = ` (${path.slice(0, i).map(String).join('.')} entry "${node.name}")`;
    } else node = isObject(node) ? node[String(key)] : undefined;
  }
  return named;
}

/** Scripts may only name commands the profile defines; tables named by codes must exist. */
function checkReferences(profile: Profile, file: string): void {
  for (const [script, steps] of Object.entries(profile.scripts)) {
    steps.forEach((name, i) => {
      if (!profile.commands[name]) throw invalid(file, `scripts.${script}.${i}`, `unknown command "${name}"`);
    });
  }
  for (const [name, spec] of Object.entries(profile.commands)) {
    (spec.recoverWith ?? []).forEach((step, i) => {
      if (!profile.commands[step]) throw invalid(file, `commands.${name}.recoverWith.${i}`, `unknown command "${step}"`);
    });
  }
  profile.quirks.forEach((quirk, q) => {
    for (const [script, steps] of Object.entries(quirk.scripts ?? {})) {
      steps.forEach((name, i) => {
        if (!profile.commands[name]) throw invalid(file, `quirks.${q}.scripts.${script}.${i}`, `unknown command "${name}"`);
      });
    }
  });
  const tableRefs: [string, string | undefined][] = [
    ...profile.results.map((r, i) => [`results.${i}.table`, r.table] as [string, string | undefined]),
    ...profile.urcs.map((u, i) => [`urcs.${i}.table`, u.table] as [string, string | undefined]),
    ...Object.entries(profile.commands).map(([n, c]) => [`commands.${n}.awaitUrc.table`, c.awaitUrc?.table] as [string, string | undefined]),
  ];
  for (const [field, table] of tableRefs) {
    if (table !== undefined && !profile.tables[table]) throw invalid(file, field, `unknown table "${table}"`);
  }
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/**
 * A profile to read logs with, never to drive a module: the schema is checked, the roles a driver
 * needs (socket commands, scripts) are not. For families that have no module profile of their own,
 * read with the 3GPP base (`extends: "3gpp"`) plus their start-up lines.
 */
export function readingProfile(json: Record<string, unknown>, file: string): Profile {
  const origins: Origins = new Map();
  const merged = resolveExtends(json as JsonObject, file, PROFILE_DIR, origins, [file]);
  delete merged.abstract;
  const parsed = ProfileSchema.safeParse(merged);
  if (!parsed.success) throw invalid(file, String(parsed.error.issues[0]?.path.join('.') ?? ''), parsed.error.issues[0]?.message ?? 'invalid');
  return parsed.data;
}
