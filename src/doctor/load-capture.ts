import { AtbridgeError, ExitCode } from '../errors.js';
import { guessFamily, type FamilyGuess } from '../decode/family.js';
import type { TraceEvent } from '../trace/events.js';
import { CAPTURE_FORMATS, openCapture, type CaptureFormat } from '../trace/import/index.js';

export interface LoadedCapture {
  events: AsyncIterable<TraceEvent>;
  profile: string | undefined;
  /** Each event is one whole line (a transcript). */
  perLine: boolean;
  /** The module family guessed from the content (foreign captures: our own traces name their profile). */
  family: FamilyGuess | undefined;
  format: CaptureFormat;
}

/** Opens a capture for `doctor --log` through the importers: our JSONL or any foreign format, detected. */
export async function loadCapture(path: string, format = 'auto', extra: { usbInterface?: number } = {}): Promise<LoadedCapture> {
  if (format !== 'auto' && !(CAPTURE_FORMATS as readonly string[]).includes(format)) {
    throw new AtbridgeError('bad-option', `--format must be auto or one of ${CAPTURE_FORMATS.join(', ')}, not "${format}"`, { exitCode: ExitCode.usage });
  }
  const capture = await openCapture(path, { format: format as CaptureFormat | 'auto', ...extra });
  const family = capture.format === 'jsonl' ? undefined : guessFamily(capture.sampleText);
  return { events: capture.events, profile: capture.profile, perLine: capture.perLine, family, format: capture.format };
}
