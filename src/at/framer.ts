import type { ModuleProfile } from '../profile/module-profile.js';

/** What the byte stream from a module is made of, before anyone interprets it. */
export type Frame =
  /** `blockHeader`: the line (as it is, untrimmed) is a header whose data block follows (`+IPD5`). */
  | { kind: 'line'; text: string; raw: Buffer; blockHeader?: true }
  | { kind: 'prompt'; raw: Buffer; damaged?: boolean }
  | { kind: 'block'; name: string; header: string; groups: Record<string, string>; purpose: 'push' | 'read'; data: Buffer; complete: boolean }
  | { kind: 'data'; data: Buffer };

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const COMMA = 0x2c;
/**
 * What a CR or LF becomes when one of its bits flips (`\r` → `-`, `M`, FF…; `\n` → `*`, `J`, VT…).
 * The line then ends a byte late or the next starts a byte early: a sound line with this byte
 * stuck to its start or end, or the byte alone on a line.
 */
export const STRAY: ReadonlySet<number> = new Set([CR, LF].flatMap((c) => [0, 1, 2, 3, 4, 5, 6, 7].map((bit) => c ^ (1 << bit))));

function oneBitApart(a: number, b: number): boolean {
  const x = a ^ b;
  return x !== 0 && (x & (x - 1)) === 0;
}

/** Longest line kept; a module never sends more, so longer runs are garbage and get cut. */
const MAX_LINE = 4096;
/**
 * Largest block a header may announce. No module pushes or reads more than a few KiB at once;
 * a bigger length is a corrupted header (`+IPD,99999999:`), and taking it at its word would
 * swallow every later byte, final results included, and stall the command queue for good.
 */
const MAX_BLOCK = 1 << 20;

interface PendingBlock {
  name: string;
  header: string;
  groups: Record<string, string>;
  purpose: 'push' | 'read';
  remaining: number;
  parts: Buffer[];
  /** A `nextLine` header: the LF after its CR has not been seen yet. */
  skipLf: boolean;
}

/**
 * Frames raw bytes into lines, prompts and length-prefixed binary blocks (atat's ingress idea).
 * It works on bytes and decodes a line as latin1 only once the line is complete, so binary
 * data and any byte value pass through unchanged. Fed one byte at a time or in any chunks,
 * it produces the same frames.
 */
export class AtFramer {
  private line = Buffer.alloc(256);
  private lineLength = 0;
  private block: PendingBlock | undefined;
  private afterCr = false;
  private afterPrompt = false;
  private dataMode = false;
  private expectPrompt = false;
  private promptByte: number;
  private promptSpace: boolean;
  private readonly inlineFirstBytes: Set<number>;

  constructor(
    private profile: ModuleProfile,
    private readonly emit: (frame: Frame) => void,
  ) {
    this.promptByte = profile.data.prompt.text.charCodeAt(0);
    this.promptSpace = profile.data.prompt.trailingSpace;
    this.inlineFirstBytes = new Set(profile.inlinePrefixes.map((p) => p.charCodeAt(0)));
  }

  setProfile(profile: ModuleProfile): void {
    this.profile = profile;
    this.promptByte = profile.data.prompt.text.charCodeAt(0);
    this.promptSpace = profile.data.prompt.trailingSpace;
    this.inlineFirstBytes.clear();
    for (const p of profile.inlinePrefixes) this.inlineFirstBytes.add(p.charCodeAt(0));
  }

  /** In data (transparent) mode every byte is payload; the caller switches back after an escape. */
  setDataMode(on: boolean): void {
    this.dataMode = on;
    this.afterPrompt = false;
    // Entering data mode right after "CONNECT\r": the LF still to come is not payload.
    if (!on) this.afterCr = false;
  }

  get inDataMode(): boolean {
    return this.dataMode;
  }

  /**
   * A command is waiting for the prompt. Then a byte one bit off the prompt at the start of a line,
   * or the prompt after a stray line-end byte, is the prompt damaged on the wire: no line the
   * module may send instead (ERROR, busy, +CME ERROR) starts so, and the module now waits for the
   * data whatever the host makes of it. Taking it as a line would leave both sides waiting.
   */
  setExpectPrompt(on: boolean): void {
    this.expectPrompt = on;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.dataMode) {
        if (this.afterCr) {
          this.afterCr = false;
          if (chunk[i] === LF) {
            i++;
            continue;
          }
        }
        this.emit({ kind: 'data', data: chunk.subarray(i) });
        return;
      }
      if (this.block) {
        i = this.feedBlock(chunk, i);
        continue;
      }
      const byte = chunk[i]!;
      i++;
      if (this.afterPrompt) {
        this.afterPrompt = false;
        if (byte === SPACE && this.promptSpace) continue;
      }
      if (byte === CR || byte === LF) {
        const crlf = byte === LF && this.afterCr;
        this.afterCr = byte === CR;
        if (!crlf) this.endLine();
        continue;
      }
      this.afterCr = false;
      if (this.lineLength === 0 && byte === this.promptByte) {
        this.emit({ kind: 'prompt', raw: Buffer.from([byte]) });
        this.afterPrompt = true;
        // A mode switch requested by the prompt's listener applies to the rest of this chunk.
        continue;
      }
      if (this.expectPrompt && this.damagedPrompt(byte)) {
        const raw = Buffer.from([...this.line.subarray(0, this.lineLength), byte]);
        this.lineLength = 0;
        this.emit({ kind: 'prompt', raw, damaged: true });
        this.afterPrompt = true;
        continue;
      }
      this.append(byte);
      if ((byte === COLON || byte === COMMA) && this.inlineFirstBytes.has(this.line[0]!)) this.tryInlineBlock();
    }
  }

  private damagedPrompt(byte: number): boolean {
    if (this.lineLength === 0) return oneBitApart(byte, this.promptByte);
    return this.lineLength === 1 && byte === this.promptByte && STRAY.has(this.line[0]!);
  }

  /** Emits whatever is half-done (end of a file): a partial line, a truncated block. */
  flush(): void {
    if (this.block) {
      const b = this.block;
      this.block = undefined;
      this.emit({ kind: 'block', name: b.name, header: b.header, groups: b.groups, purpose: b.purpose, data: Buffer.concat(b.parts), complete: false });
    }
    if (this.lineLength > 0) this.endLine();
  }

  private append(byte: number): void {
    if (this.lineLength === this.line.length) {
      if (this.line.length >= MAX_LINE) {
        this.endLine();
      } else {
        const bigger = Buffer.alloc(this.line.length * 2);
        this.line.copy(bigger, 0, 0, this.lineLength);
        this.line = bigger;
      }
    }
    this.line[this.lineLength++] = byte;
  }

  private endLine(): void {
    if (this.lineLength === 0) return;
    const raw = Buffer.from(this.line.subarray(0, this.lineLength));
    this.lineLength = 0;
    const text = raw.toString('latin1');
    const header = this.profile.matchLineBlock(text);
    if (header) {
      const len = Number(header.groups.len);
      this.emit({ kind: 'line', text, raw, blockHeader: true });
      if (Number.isSafeInteger(len) && len > 0 && len <= MAX_BLOCK) {
        this.block = { name: header.spec.name, header: text, groups: header.groups, purpose: header.spec.purpose, remaining: len, parts: [], skipLf: this.afterCr };
      }
      return;
    }
    this.emit({ kind: 'line', text, raw });
  }

  private tryInlineBlock(): void {
    const partial = this.line.toString('latin1', 0, this.lineLength);
    const header = this.profile.matchInlineBlock(partial);
    if (!header) return;
    const len = Number(header.groups.len);
    if (!Number.isSafeInteger(len) || len < 0 || len > MAX_BLOCK) return;
    this.lineLength = 0;
    if (len === 0) {
      this.emit({ kind: 'block', name: header.spec.name, header: partial, groups: header.groups, purpose: header.spec.purpose, data: Buffer.alloc(0), complete: true });
      return;
    }
    this.block = { name: header.spec.name, header: partial, groups: header.groups, purpose: header.spec.purpose, remaining: len, parts: [], skipLf: false };
  }

  private feedBlock(chunk: Buffer, at: number): number {
    const b = this.block!;
    let i = at;
    if (b.skipLf) {
      b.skipLf = false;
      this.afterCr = false;
      if (chunk[i] === LF) i++;
      if (i >= chunk.length) return i;
    }
    const take = Math.min(b.remaining, chunk.length - i);
    b.parts.push(Buffer.from(chunk.subarray(i, i + take)));
    b.remaining -= take;
    if (b.remaining === 0) {
      this.block = undefined;
      this.emit({ kind: 'block', name: b.name, header: b.header, groups: b.groups, purpose: b.purpose, data: b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts), complete: true });
    }
    return i + take;
  }
}
