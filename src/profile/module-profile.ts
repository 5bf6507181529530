import type { BinaryBlockT, CommandSpecT, JoinFailureT, Profile, ResultCodeT, UrcT } from './schema.js';

export interface Matched<T> {
  spec: T;
  groups: Record<string, string>;
}

export interface CompiledResult extends ResultCodeT {
  regex: RegExp;
}
interface CompiledUrc extends UrcT {
  regex: RegExp;
  /** What every line it matches starts with ('' when the pattern does not say). */
  literal: string;
}
interface CompiledBlock extends BinaryBlockT {
  regex: RegExp;
}

export type Vars = Record<string, string | number | undefined>;

/**
 * A validated profile with its patterns compiled and its quirks applied for one firmware.
 * Everything the layers above need to know about a module family comes through here.
 */
export class ModuleProfile {
  readonly data: Profile;
  readonly firmware: string | undefined;
  private readonly results: CompiledResult[];
  private readonly resultIndex: FirstCharIndex<CompiledResult & { literal: string }>;
  private readonly urcs: CompiledUrc[];
  private readonly urcIndex: FirstCharIndex<CompiledUrc>;
  private readonly busy: { regex: RegExp; kind: 'processing' | 'sending' }[];
  private readonly inlineBlocks: CompiledBlock[];
  private readonly lineBlocks: CompiledBlock[];
  private readonly noise: RegExp[];
  private readonly reboot: RegExp[];
  private readonly ready: RegExp;
  private readonly commands: Record<string, CommandSpecT>;
  private readonly scripts: Record<string, string[]>;
  readonly maxSend: number;
  /** Receive modes this firmware offers (its quirks applied); the first is the default. */
  readonly recvModes: readonly ('push' | 'buffered')[];
  /** Socket modes this firmware offers (its quirks applied). */
  readonly socketModes: readonly ('command' | 'transparent')[];
  /** First characters of inline block headers, for a cheap test on each byte. */
  readonly inlinePrefixes: string[];

  constructor(data: Profile, firmware?: string) {
    this.data = data;
    this.firmware = firmware;
    this.results = data.results.map((r) => ({ ...r, regex: linePattern(r.pattern) }));
    this.resultIndex = new FirstCharIndex(this.results.map((r) => ({ ...r, literal: literalPrefix(r.pattern) })));
    this.urcs = data.urcs.map((u) => ({ ...u, regex: linePattern(u.pattern), literal: literalPrefix(u.pattern) }));
    this.urcIndex = new FirstCharIndex(this.urcs);
    this.busy = data.busy.map((b) => ({ regex: linePattern(b.pattern), kind: b.kind }));
    const blocks = data.binaryBlocks.map((b) => ({ ...b, regex: linePattern(b.pattern), prefix: toLatin1Bytes(b.prefix) }));
    this.inlineBlocks = blocks.filter((b) => b.dataStarts === 'inline');
    this.lineBlocks = blocks.filter((b) => b.dataStarts === 'nextLine');
    this.inlinePrefixes = this.inlineBlocks.map((b) => b.prefix);
    this.noise = data.noise.map((n) => linePattern(n));
    this.reboot = data.banner.rebootPatterns.map((p) => linePattern(p));
    this.ready = linePattern(data.banner.readyPattern);
    let commands = { ...data.commands };
    let maxSend = data.socket.maxSend;
    let recvModes = data.socket.recvModes;
    let socketModes = data.socket.modes ?? ['command', 'transparent'];
    let scripts = { ...data.scripts };
    if (firmware !== undefined) {
      for (const quirk of data.quirks) {
        if (!quirkApplies(quirk.when, firmware)) continue;
        for (const [name, override] of Object.entries(quirk.commands ?? {})) {
          const base = commands[name];
          if (base) commands = { ...commands, [name]: overridden(base, override) };
        }
        if (quirk.socket?.maxSend) maxSend = quirk.socket.maxSend;
        if (quirk.socket?.recvModes) recvModes = quirk.socket.recvModes;
        if (quirk.socket?.modes) socketModes = quirk.socket.modes;
        if (quirk.scripts) scripts = { ...scripts, ...quirk.scripts };
      }
    }
    this.commands = commands;
    this.scripts = scripts;
    this.maxSend = maxSend;
    this.recvModes = recvModes;
    this.socketModes = socketModes;
  }

  get id(): string {
    return this.data.id;
  }
  get family(): 'cellular' | 'wifi' {
    return this.data.family;
  }
  get lineEnding(): string {
    return this.data.serial.lineEnding;
  }

  /** The same profile with the quirks for this firmware applied. */
  forFirmware(firmware: string): ModuleProfile {
    return new ModuleProfile(this.data, firmware);
  }

  /** Names of the quirks that apply to the firmware this profile was built for. */
  appliedQuirks(): string[] {
    const fw = this.firmware;
    if (fw === undefined) return [];
    return this.data.quirks.filter((q) => quirkApplies(q.when, fw)).map((q) => q.name);
  }

  /** @internal The final result code a line is, if any (profile results first, then `extra`). */
  matchFinal(line: string, extra: readonly CompiledResult[] = []): Matched<CompiledResult> | undefined {
    for (const r of extra) {
      const m = r.regex.exec(line);
      if (m) return { spec: r, groups: groupsOf(r.regex, m) };
    }
    for (const r of this.resultIndex.candidates(line)) {
      if (r.literal.length > 1 && !line.startsWith(r.literal)) continue;
      const m = r.regex.exec(line);
      if (m) return { spec: r, groups: groupsOf(r.regex, m) };
    }
    return undefined;
  }

  /** @internal The URC a line is, with its named groups. */
  matchUrc(line: string): Matched<UrcT> | undefined {
    for (const u of this.urcIndex.candidates(line)) {
      if (u.literal.length > 1 && !line.startsWith(u.literal)) continue;
      const m = u.regex.exec(line);
      if (m) return { spec: u, groups: groupsOf(u.regex, m) };
    }
    return undefined;
  }

  /** @internal `busy p...` / `busy s...` style answers. */
  matchBusy(line: string): 'processing' | 'sending' | undefined {
    return this.busy.find((b) => b.regex.test(line))?.kind;
  }

  /** A header whose data follows right after its last character (`+IPD,5:`). */
  matchInlineBlock(partial: string): Matched<BinaryBlockT> | undefined {
    for (const b of this.inlineBlocks) {
      if (!partial.startsWith(b.prefix)) continue;
      const m = b.regex.exec(partial);
      if (m) return { spec: b, groups: groupsOf(b.regex, m) };
    }
    return undefined;
  }

  /** A header line whose data follows its line end (`+IPD5`). */
  matchLineBlock(line: string): Matched<BinaryBlockT> | undefined {
    for (const b of this.lineBlocks) {
      if (!line.startsWith(b.prefix)) continue;
      const m = b.regex.exec(line);
      if (m) return { spec: b, groups: groupsOf(b.regex, m) };
    }
    return undefined;
  }

  /** @internal Lines the module prints that mean nothing (boot noise). */
  isNoise(line: string): boolean {
    return this.noise.some((n) => n.test(line));
  }

  /** @internal A boot banner: the module (re)started. */
  isReboot(line: string): boolean {
    return this.reboot.some((r) => r.test(line));
  }

  /** @internal The module's ready banner. */
  isReady(line: string): boolean {
    return this.ready.test(line);
  }

  /** Timeout for a command line, from the profile's per-command table. */
  timeoutFor(commandText: string): number {
    return this.data.timeouts.byCommand[commandName(commandText)] ?? this.data.timeouts.defaultMs;
  }

  /**
   * The receive mode to run when `wanted` is asked for: `wanted` if this firmware has it. Asked
   * for buffered on a firmware that only pushes, push (the data still arrives, unasked).
   */
  recvModeFor(wanted: 'push' | 'buffered'): 'push' | 'buffered' {
    if (this.recvModes.includes(wanted)) return wanted;
    return wanted === 'buffered' ? 'push' : wanted;
  }

  /** True when the profile defines this command role. */
  hasCommand(name: string): boolean {
    return name in this.commands;
  }

  /** The command the profile defines for a role (throws a one-line error if it has none). */
  command(name: string): CommandSpecT {
    const spec = this.commands[name];
    if (!spec) throw new Error(`profile ${this.id} has no command "${name}"`);
    return spec;
  }

  /** The command names a chat script runs, in order. */
  script(name: string): string[] {
    return this.scripts[name] ?? [];
  }

  /** Fills a command template; string values are escaped the way this firmware wants. */
  fill(template: string, vars: Vars): string {
    return template.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = vars[key];
      if (value === undefined) throw new Error(`template "${template}" needs {${key}}`);
      return typeof value === 'number' ? String(value) : this.escapeString(value);
    });
  }

  /** Fills a pattern template; values are regex-escaped. */
  fillPattern(template: string, vars: Vars): RegExp {
    return linePattern(
      template.replace(/\{(\w+)\}/g, (_, key: string) => {
        const value = vars[key];
        if (value === undefined) throw new Error(`pattern "${template}" needs {${key}}`);
        return String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }),
    );
  }

  /** @internal Quotes a value for an AT string argument as the module expects. */
  escapeString(value: string): string {
    if (this.data.serial.stringEscape === 'backslash') return value.replace(/[\\",]/g, (c) => `\\${c}`);
    return value;
  }

  /** @internal Compiles result-code patterns. */
  compileResults(results: readonly ResultCodeT[] | undefined): CompiledResult[] {
    return (results ?? []).map((r) => ({ ...r, regex: linePattern(r.pattern) }));
  }

  /**
   * The numeric code for a module's answer in a table: `10` stays `10`, and a verbose answer
   * (`+CME ERROR: SIM not inserted` after AT+CMEE=2) is looked up by its meaning.
   */
  codeOf(table: string, answer: string | undefined): string | undefined {
    if (answer === undefined) return undefined;
    const text = answer.trim();
    const t = this.data.tables[table];
    if (!t || text in t) return text;
    const wanted = normalise(text);
    return Object.entries(t).find(([, meaning]) => normalise(meaning) === wanted)?.[0] ?? text;
  }

  /** What a Wi-Fi join's failure code is for a person (kind and fix), from `joinFailures` (`*`: any other code). */
  joinFailure(code: string | undefined): JoinFailureT | undefined {
    const table = this.data.joinFailures;
    if (!table || code === undefined) return undefined;
    return table[code.trim()] ?? table['*'];
  }

  /** Human meaning of a code in one of the profile's tables. */
  explain(table: string | undefined, code: string | undefined): string | undefined {
    if (table === undefined || code === undefined) return undefined;
    const t = this.data.tables[table];
    if (!t) return undefined;
    return t[code] ?? t[code.trim()] ?? t[code.toLowerCase()];
  }
}

/** A command with a quirk's fields over it; a `null` field is taken away. */
export function overridden(base: CommandSpecT, override: Record<string, unknown>): CommandSpecT {
  const out: Record<string, unknown> = { ...base, ...override };
  for (const [key, value] of Object.entries(override)) if (value === null) delete out[key];
  return out as unknown as CommandSpecT;
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** A string's UTF-8 bytes read as latin1: how the framer hands that text over. */
function toLatin1Bytes(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/**
 * Compiles a profile pattern for lines the framer produced. The framer never decodes UTF-8
 * (bytes are bytes): a line is its bytes read as latin1. So a non-ASCII literal in a pattern
 * (`busy inet…`, as 0.9.x firmware prints it) is matched as the latin1 reading of its UTF-8
 * bytes. Inside a character class a multi-byte character cannot be rewritten; it is left alone.
 */
export function linePattern(source: string): RegExp {
  if (!/[^\x00-\x7f]/.test(source)) return new RegExp(source);
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      out += c + source[++i];
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    const code = source.codePointAt(i)!;
    if (code > 0x7f && !inClass) {
      const ch = String.fromCodePoint(code);
      i += ch.length - 1;
      const bytes = Buffer.from(ch, 'utf8').toString('latin1');
      out += `(?:${bytes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`;
    } else out += c;
  }
  return new RegExp(out);
}

/**
 * The characters every match of an anchored pattern starts with (`^\\+CIPOPEN: ?…` → `+CIPOPEN:`),
 * read from its source: literal characters up to the first one that is optional, repeated, a
 * class, a group or an escape such as `\\d`. '' when there is no `^`, a top-level `|`, or
 * non-ASCII text (rewritten by linePattern).
 */
export function literalPrefix(source: string): string {
  if (!source.startsWith('^') || /[^\x00-\x7f]/.test(source) || topLevelAlternation(source)) return '';
  let out = '';
  let i = 1;
  while (i < source.length) {
    const c = source[i]!;
    let ch: string;
    let next: number;
    if (c === '\\') {
      const e = source[i + 1];
      if (e === undefined || /[A-Za-z0-9]/.test(e)) break;
      ch = e;
      next = i + 2;
    } else if ('.[]()?*+{}|^$'.includes(c)) break;
    else {
      ch = c;
      next = i + 1;
    }
    const q = source[next];
    if (q === '?' || q === '*' || q === '+' || q === '{') break;
    out += ch;
    i = next;
  }
  return out;
}

function topLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** Each pattern's group names, in order, from its first match. */
const GROUP_NAMES = new WeakMap<RegExp, string[] | undefined>();

/**
 * @internal A match's named groups as a plain object, the same as `{ ...m.groups }` (keys in the pattern's
 * order, one left out of the match undefined) at a fifth of the cost: the spread of the
 * null-prototype groups object was the hottest line of decode.
 */
export function groupsOf(regex: RegExp, m: RegExpExecArray): Record<string, string> {
  const g = m.groups;
  if (g === undefined) return {};
  let names = GROUP_NAMES.get(regex);
  if (names === undefined) {
    if (GROUP_NAMES.has(regex)) return { ...g };
    const keys = Object.keys(g);
    // `__proto__` would set the prototype instead of a key: such a pattern keeps the spread.
    names = keys.includes('__proto__') ? undefined : keys;
    GROUP_NAMES.set(regex, names);
    if (names === undefined) return { ...g };
  }
  const out: Record<string, string> = {};
  for (const name of names) out[name] = g[name]!;
  return out;
}

/**
 * Patterns by the first character a line needs to match them, in their order: a line is tried
 * only against those that can match it (and those that say nothing of their start).
 */
class FirstCharIndex<T extends { literal: string }> {
  private readonly byChar = new Map<string, T[]>();
  private readonly open: T[];

  constructor(items: T[]) {
    this.open = items.filter((t) => t.literal === '');
    for (const t of items) {
      const c = t.literal[0];
      if (c !== undefined && !this.byChar.has(c)) this.byChar.set(c, items.filter((u) => u.literal === '' || u.literal[0] === c));
    }
  }

  candidates(line: string): readonly T[] {
    return this.byChar.get(line[0] ?? '') ?? this.open;
  }
}

/** `AT+CIPSEND=0,5` → `AT+CIPSEND`; `AT+CREG?` → `AT+CREG`; `ATE0` → `ATE0`. */
export function commandName(text: string): string {
  const m = /^(AT[+&*^$#%][A-Z0-9_]+|AT[A-Z&]?\d*|[A-Z+]+)/i.exec(text.trim());
  return (m?.[1] ?? text.trim()).toUpperCase();
}

/** Compares dotted version strings numerically: "3.3.0.0" vs "2.2.0.0". */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.\-_]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function quirkApplies(
  when: { firmwareMatches?: string | undefined; firmwareAtLeast?: string | undefined; firmwareBelow?: string | undefined },
  firmware: string,
): boolean {
  if (when.firmwareMatches !== undefined && !new RegExp(when.firmwareMatches).test(firmware)) return false;
  const version = /\d+(?:\.\d+)+/.exec(firmware)?.[0];
  if (when.firmwareAtLeast !== undefined && (version === undefined || compareVersions(version, when.firmwareAtLeast) < 0)) return false;
  if (when.firmwareBelow !== undefined && (version === undefined || compareVersions(version, when.firmwareBelow) >= 0)) return false;
  return true;
}
