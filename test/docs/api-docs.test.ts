import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

interface Reflection {
  name: string;
  kind: number;
  comment?: { summary?: { text: string }[] };
  signatures?: Reflection[];
  children?: Reflection[];
}

const text = (r: Reflection) => (r.comment?.summary ?? []).map((p) => p.text).join('').trim();

describe('reference docs (TypeDoc) for the public entry points', () => {
  const out = mkdtempSync(join(tmpdir(), 'atbridge-docs-'));
  let modules: Reflection[] = [];
  let log = '';

  beforeAll(async () => {
    // The same configuration as `npm run docs`, with validation warnings (an undocumented
    // exported name, a broken {@link}) as errors.
    const run = await exec(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', join(out, 'html'), '--json', join(out, 'api.json'), '--treatValidationWarningsAsErrors'], { cwd: ROOT }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    log = `${run.stdout}${run.stderr}`;
    if (existsSync(join(out, 'api.json'))) modules = (JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as Reflection).children ?? [];
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('builds without a validation warning', () => {
    expect(log).not.toMatch(/\[warning\]|\[error\]/);
    expect(modules.map((m) => m.name).sort()).toEqual(['capture', 'emulator', 'index']);
  });

  it('every exported name has a doc comment and a page', () => {
    const missing: string[] = [];
    let names = 0;
    for (const mod of modules) {
      expect(text(mod), `module ${mod.name} has no comment`).not.toBe('');
      for (const child of mod.children ?? []) {
        names++;
        const documented = text(child) !== '' || (child.signatures ?? []).some((s) => text(s) !== '');
        if (!documented) missing.push(`${mod.name}.${child.name}`);
        const page = ['functions', 'classes', 'interfaces', 'types', 'variables'].some((folder) => existsSync(join(out, 'html', folder, `${mod.name}.${child.name}.html`)));
        if (!page) missing.push(`${mod.name}.${child.name} (no page)`);
      }
    }
    expect(missing).toEqual([]);
    expect(names).toBeGreaterThan(40);
  });
});
