import { SerialLink } from '../../src/transport/serial-link.js';
import { openPtyPair, type PtyPair } from './pty.js';

/** Answers one command line the module got; `say` writes to the host (latin1). */
export type ModuleHandler = (line: string, say: (text: string) => void) => void;

/**
 * A module the test scripts, on the far end of a real pseudo-terminal (socat) opened with the
 * real serialport package on both ends: the code under test gets `host`, the test plays the
 * module line by line through `handler`, so each rule of the AT layer is seen on real bytes.
 */
export interface ScriptedModule {
  pty: PtyPair;
  /** The host's end: give it to the code under test. */
  host: SerialLink;
  /** The module's end, for raw writes (`module.write(bytes)`). */
  module: SerialLink;
  /** Each command line the module got, in order (CR-terminated, a leading LF dropped). */
  seen: string[];
  /** Answers each line; by default OK to everything. */
  handler: ModuleHandler;
  /** Echo each line back before the handler answers (as a module with ATE1 does). */
  echo: boolean;
  /** While set, the module takes raw bytes (after a '>' prompt) here instead of command lines. */
  rawSink: ((chunk: Buffer) => void) | undefined;
  /** Writes `text` to the host as the module (latin1). */
  say(text: string): void;
  /** Closes both ends and the pty pair. */
  close(): Promise<void>;
}

export async function startScriptedModule(options: { echo?: boolean } = {}): Promise<ScriptedModule> {
  const pty = await openPtyPair();
  const host = await SerialLink.open({ path: pty.a, baud: 115200 });
  const module = await SerialLink.open({ path: pty.b, baud: 115200 });
  const say = (text: string) => void module.write(Buffer.from(text, 'latin1'));
  const scripted: ScriptedModule = {
    pty,
    host,
    module,
    seen: [],
    handler: (_line, reply) => reply('\r\nOK\r\n'),
    echo: options.echo ?? false,
    rawSink: undefined,
    say,
    async close() {
      await host.close();
      await module.close();
      await pty.close();
    },
  };
  let buffer = '';
  module.on('data', (chunk: Buffer) => {
    if (scripted.rawSink) return scripted.rawSink(chunk);
    buffer += chunk.toString('latin1');
    let cr: number;
    while ((cr = buffer.indexOf('\r')) !== -1) {
      const line = buffer.slice(0, cr).replace(/^\n/, '');
      buffer = buffer.slice(cr + 1);
      scripted.seen.push(line);
      if (scripted.echo) say(`${line}\r`);
      scripted.handler(line, say);
    }
  });
  return scripted;
}
