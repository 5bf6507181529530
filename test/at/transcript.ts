import { readFileSync } from 'node:fs';
import { classifyLine, looksLikeCommand, responsePrefixFor, type ClassifiedLine, type CommandContext } from '../../src/at/classify.js';
import { AtFramer, type Frame } from '../../src/at/framer.js';
import type { ModuleProfile } from '../../src/profile/index.js';

/** A pasted transcript (fixtures/logs) as the bytes a host would have read: lines end in CR LF. */
export function transcriptBytes(file: string): Buffer {
  const text = readFileSync(file, 'latin1')
    .split('\n')
    .filter((l) => !/^(source|what): /.test(l))
    .join('\r\n');
  return Buffer.from(text, 'latin1');
}

/**
 * Frames and classifies a transcript the way the channel would, taking each command-looking line
 * as the command in flight (its echo), so shared-prefix lines are told apart as on a live port.
 */
export function classifyTranscript(bytes: Buffer, profile: ModuleProfile, chunks?: (buf: Buffer) => Buffer[]): { frames: Frame[]; lines: ClassifiedLine[] } {
  const frames: Frame[] = [];
  const framer = new AtFramer(profile, (f) => frames.push(f));
  for (const chunk of chunks ? chunks(bytes) : [bytes]) framer.push(chunk);
  framer.flush();
  let context: CommandContext | undefined;
  const lines: ClassifiedLine[] = [];
  for (const frame of frames) {
    if (frame.kind !== 'line') continue;
    const text = frame.text.replace(/\s*\/\/.*$/, '').trim();
    if (text === '') continue;
    if (looksLikeCommand(text)) {
      context = { text, responsePrefix: responsePrefixFor(text), finals: [], echoPending: true };
    }
    const line = classifyLine(text, profile, context);
    if (line.kind === 'echo' && context) context.echoPending = false;
    if (line.kind === 'final') context = undefined;
    lines.push(line);
  }
  return { frames, lines };
}
