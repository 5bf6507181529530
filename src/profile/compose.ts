/**
 * Profile composition: a profile file may `extends` another (by id); the merged JSON is what the
 * schema validates. Rules, so a child states only what differs:
 * - objects merge key by key, the child's value wins; a child's `null` removes the key;
 * - arrays of objects that carry a `name` (urcs, binaryBlocks, quirks) or, failing that, a
 *   `pattern` (results, busy) merge entry by entry: an entry with the same key replaces the base's
 *   in place, new entries follow the base's; `{"name": "X", "remove": true}` drops the base's X
 *   (an empty array replaces the base's list: `"quirks": []`);
 * - any other array, and every scalar, is replaced whole.
 * Every merged leaf remembers the file that set it, so a schema error names the right file.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Field path (dot-joined) → file that wrote it. */
export type Origins = Map<string, string>;

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entryKey(value: Json): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.name === 'string') return `name:${value.name}`;
  if (typeof value.pattern === 'string') return `pattern:${value.pattern}`;
  return undefined;
}

function keyedArray(values: Json[]): boolean {
  return values.length > 0 && values.every((v) => entryKey(v) !== undefined);
}

/** Records `file` as the origin of `value` and everything under it. */
export function recordOrigins(value: Json, path: string, file: string, origins: Origins): void {
  origins.set(path, file);
  if (Array.isArray(value)) value.forEach((v, i) => recordOrigins(v, join(path, String(i)), file, origins));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) recordOrigins(v, join(path, k), file, origins);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Merges `child` (from `file`) over `base`, whose origins are already in `origins`.
 * Returns the merged value; `origins` is rewritten for the merged paths.
 */
export function mergeJson(base: Json | undefined, child: Json, path: string, file: string, origins: Origins): Json {
  if (isObject(base) && isObject(child)) {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(child)) {
      const p = join(path, key);
      if (value === null) {
        delete out[key];
        dropOrigins(p, origins);
        continue;
      }
      out[key] = mergeJson(base[key], value, p, file, origins);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(child) && keyedArray(base) && keyedArray(child)) {
    return mergeKeyed(base, child, path, file, origins);
  }
  dropOrigins(path, origins);
  recordOrigins(child, path, file, origins);
  return child;
}

function mergeKeyed(base: Json[], child: Json[], path: string, file: string, origins: Origins): Json[] {
  // Origins of the base entries move with them, so collect them per entry first.
  const baseOrigins = base.map((_, i) => takeOrigins(join(path, String(i)), origins));
  const entries: { value: Json; origins: Origins }[] = base.map((value, i) => ({ value, origins: baseOrigins[i]! }));
  for (const value of child) {
    const key = entryKey(value);
    const at = entries.findIndex((e) => entryKey(e.value) === key);
    const own: Origins = new Map();
    recordOrigins(value, '', file, own);
    if (isObject(value) && value.remove === true) {
      if (at >= 0) entries.splice(at, 1);
      continue;
    }
    if (at >= 0) entries[at] = { value, origins: own };
    else entries.push({ value, origins: own });
  }
  origins.set(path, file);
  entries.forEach((e, i) => {
    for (const [p, f] of e.origins) origins.set(p === '' ? join(path, String(i)) : join(join(path, String(i)), p), f);
  });
  return entries.map((e) => e.value);
}

/** Removes and returns the origins under `path`, re-rooted at ''. */
function takeOrigins(path: string, origins: Origins): Origins {
  const out: Origins = new Map();
  for (const [p, f] of [...origins]) {
    if (p === path) out.set('', f);
    else if (p.startsWith(`${path}.`)) out.set(p.slice(path.length + 1), f);
    else continue;
    origins.delete(p);
  }
  return out;
}

function dropOrigins(path: string, origins: Origins): void {
  for (const p of [...origins.keys()]) if (p === path || p.startsWith(`${path}.`)) origins.delete(p);
}

/** The file responsible for a field: the deepest recorded path at or above it, else `fallback`. */
export function originOf(path: readonly (string | number | symbol)[], origins: Origins, fallback: string): string {
  const parts = path.map(String);
  for (let n = parts.length; n > 0; n--) {
    const file = origins.get(parts.slice(0, n).join('.'));
    if (file !== undefined) return file;
  }
  return fallback;
}
