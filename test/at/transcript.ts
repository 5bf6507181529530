import { readFileSync } from 'node:fs';
import { classifyLine, looksLikeCommand, responsePrefixFor, splitGluedEcho, type ClassifiedLine, type CommandContext } from '../../src/at/classify.js';
import { AtFramer, type Frame } from '../../src/at/framer.js';
import type { ModuleProfile } from '../../src/profile/index.js';

/**
 * What host libraries and forum posts put around the wire text in the pasted logs, removed line
 * by line (each rule is anchored on a wrapper only that log style has, so plain logs pass as they are).
 */
const WRAPPERS: [RegExp, string][] = [
  [/^\d\d:\d\d:\d\d\.\d{3} -> ?/, ''], // Arduino serial monitor time stamps (espat_08)
  [/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] ?/, ''], // terminal time stamps (espat_22)
  [/^esp> (.*?) \.\.\.(?:sent|ignored|matched|error|processed)$/, '$1'], // WiFiEspAT debug (espat_07, _08, _13) ...
  [/^esp> \?$/, ''], // ... and its "?" marker (the log does not say what it means)
  [/^\[serial \([^)]*\)\] (?:TX|RX): ?/, ''], // RaceCapture serial debug (espat_03) ...
  [/\((?:\\r|\\n)\)/g, ''], // ... with its (\r)(\n) markers
  [/\[at\] Unhandled msg.*$/, ''], // ... and its own message glued after one of them
  [/^> AT[<>=] ?/, ''], // mbed ESP8266 driver trace quoted in markdown (espat_15)
  [/^[»«] /, ''], // terminal program arrows (espat_28)
  [/^ATC<ESP> - (?:TX|RX): ?/, ''], // ATC library trace (espat_32)
];

export function unwrapLine(line: string): string {
  let out = line;
  for (const [pattern, replacement] of WRAPPERS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A pasted transcript (fixtures/logs) as the bytes a host would have read: lines end in CR LF.
 * With `unwrap` (the default) the log tools' own decorations are taken off first.
 */
export function transcriptBytes(file: string, options: { unwrap?: boolean } = {}): Buffer {
  const text = readFileSync(file, 'latin1')
    .split('\n')
    .filter((l) => !/^(source|what): /.test(l))
    .map((l) => (options.unwrap === false ? l : unwrapLine(l)))
    .join('\r\n');
  return Buffer.from(text, 'latin1');
}

/**
 * Frames and classifies a transcript the way the channel would, taking each command-looking line
 * as the command in flight (its echo), so shared-prefix lines are told apart as on a live port.
 * A URC glued to the next command's echo (`+NETOPEN: 0AT+IPADDR`) is split as the channel does.
 */
export function classifyTranscript(bytes: Buffer, profile: ModuleProfile, chunks?: (buf: Buffer) => Buffer[]): { frames: Frame[]; lines: ClassifiedLine[] } {
  const frames: Frame[] = [];
  const framer = new AtFramer(profile, (f) => frames.push(f));
  for (const chunk of chunks ? chunks(bytes) : [bytes]) framer.push(chunk);
  framer.flush();
  let context: CommandContext | undefined;
  const lines: ClassifiedLine[] = [];
  const classify = (text: string): void => {
    const glued = splitGluedEcho(text, context?.text);
    if (glued) {
      classify(glued[0]);
      classify(glued[1]);
      return;
    }
    if (looksLikeCommand(text)) {
      context = { text, responsePrefix: responsePrefixFor(text), finals: [], echoPending: true };
    }
    const line = classifyLine(text, profile, context);
    if (line.kind === 'echo' && context) context.echoPending = false;
    if (line.kind === 'final') context = undefined;
    lines.push(line);
  };
  for (const frame of frames) {
    if (frame.kind !== 'line') continue;
    const text = frame.text.replace(/\s*\/\/.*$/, '').trim();
    if (text !== '') classify(text);
  }
  return { frames, lines };
}
