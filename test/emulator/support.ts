import type { Link } from '../../src/transport/link.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator/index.js';

/**
 * A person at a terminal, in code: types bytes at the module and waits for text in what it
 * said. Everything heard is kept (latin1, so bytes map 1:1) until `clear()`.
 */
export class Terminal {
  heard = '';
  constructor(readonly link: Link) {
    link.on('data', (chunk: Buffer) => (this.heard += chunk.toString('latin1')));
  }

  type(text: string | Buffer): Promise<void> {
    return this.link.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /**
   * Types a command line (CR) and waits for its final result; returns everything said since.
   * What was heard is kept, so a URC that follows the final can still be waited for.
   */
  async command(line: string, final: RegExp = /\r\n(OK|ERROR|\+CME ERROR: [^\r]+|SEND OK|SEND FAIL|NO CARRIER|CONNECT[^\r]*)\r\n/, timeoutMs = 5000): Promise<string> {
    this.clear();
    await this.type(`${line}\r`);
    const m = await this.until(final, timeoutMs);
    return this.heard.slice(0, m.index + m[0].length);
  }

  /** Waits until `pattern` matches what was heard since the last clear. */
  async until(pattern: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.heard);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${JSON.stringify(this.heard)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  take(): string {
    const text = this.heard;
    this.heard = '';
    return text;
  }

  clear(): void {
    this.heard = '';
  }
}

/** The lines of a module answer, blank lines and the echo left out. */
export function linesOf(text: string, echo?: string): string[] {
  return text.split(/\r\n|\r/).filter((l) => l !== '' && l !== echo);
}

const running: EmulatorHandle[] = [];

/** An in-process emulator, pacing off unless asked, with a terminal on its host end; closed by `closeAll`. */
export async function emulator(profile: 'sim7600' | 'esp-at', options: Partial<EmulatorOptions> = {}): Promise<{ emu: EmulatorHandle; term: Terminal }> {
  const emu = startEmulator({ profile, pacing: false, ...options });
  running.push(emu);
  const term = new Terminal(emu.link);
  // A module started with a fault may print no banner at all.
  if (!options.faults?.length) await term.until(profile === 'sim7600' ? /RDY\r\n/ : /ready\r\n/);
  term.clear();
  return { emu, term };
}

export async function closeAll(): Promise<void> {
  for (const emu of running.splice(0)) await emu.close();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
