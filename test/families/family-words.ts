import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { listProfileIds, loadProfile, PROFILE_DIR } from '../../src/profile/index.js';
import { commandName } from '../../src/profile/module-profile.js';

/** `AT+CIPOPEN=…` → `CIPOPEN`; `+QIURC` → `QIURC`; `*ATREADY` → `ATREADY`; anything else → undefined. */
export function stemOf(text: string): string | undefined {
  const name = /^[+*^$#%]/.test(text.trim()) ? text.trim() : commandName(text);
  const m = /^(?:AT)?[+*^$#%]([A-Z][A-Z0-9_]+)/i.exec(name);
  return m?.[1]?.toUpperCase();
}

interface RawProfile {
  commands?: Record<string, { send?: string } | null>;
  quirks?: { commands?: Record<string, { send?: string }> }[];
  urcs?: { name: string }[];
  binaryBlocks?: { name: string }[];
  baudChange?: { command?: string; query?: string; persist?: string };
}

function wordsOf(p: RawProfile): Set<string> {
  const out = new Set<string>();
  const add = (t: string | undefined): void => {
    const s = t === undefined ? undefined : stemOf(t);
    if (s) out.add(s);
  };
  for (const c of Object.values(p.commands ?? {})) add(c?.send);
  for (const q of p.quirks ?? []) for (const c of Object.values(q.commands ?? {})) add(c.send);
  for (const u of p.urcs ?? []) add(u.name);
  for (const b of p.binaryBlocks ?? []) add(b.name);
  add(p.baudChange?.command);
  add(p.baudChange?.query);
  add(p.baudChange?.persist);
  return out;
}

/**
 * URC names that are plain 3GPP / English words, not a family's (`+PDP: DEACT`, `+APP PDP`).
 */
const GENERIC = new Set(['PDP', 'APP', 'CLIENT', 'RECEIVE']);

/**
 * The command and URC names the shipped family profiles define, less the TS 27.007 / V.25ter
 * ones the abstract bases hold (CPIN, CREG, CSQ…: no family's words). With the profile that
 * names each.
 */
export function familyWords(): Map<string, string[]> {
  const base = new Set<string>();
  const bases = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'));
  for (const f of bases) {
    const raw = JSON.parse(readFileSync(join(PROFILE_DIR, f), 'utf8')) as RawProfile & { abstract?: boolean };
    if (raw.abstract) for (const w of wordsOf(raw)) base.add(w);
  }
  const words = new Map<string, string[]>();
  for (const id of listProfileIds()) {
    for (const w of wordsOf(loadProfile(id) as unknown as RawProfile)) {
      if (base.has(w) || GENERIC.has(w)) continue;
      words.set(w, [...(words.get(w) ?? []), id]);
    }
  }
  return words;
}

export interface Hit {
  file: string;
  line: number;
  word: string;
  text: string;
}

/** Every .ts file under `dir`. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/**
 * The family words a TypeScript file's code names: in string, template and regex literals
 * (comments are skipped: citing a command as an example there is fine).
 */
export function codeHits(file: string, root: string, words: ReadonlySet<string>): Hit[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const hits: Hit[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isRegularExpressionLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const token = node.getText(source);
      for (const m of token.matchAll(/[A-Z][A-Z0-9_]+/g)) {
        const w = m[0];
        if (!words.has(w)) continue;
        const line = source.getLineAndCharacterOfPosition(node.getStart(source) + m.index).line + 1;
        hits.push({ file: relative(root, file), line, word: w, text: token.length > 90 ? `${token.slice(0, 87)}...` : token });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hits;
}
