import { AtbridgeError, ExitCode } from '../errors.js';
import type { TraceEvent } from '../trace/events.js';
import { CAPTURE_FORMATS, openCapture, type CaptureFormat } from '../trace/import/index.js';

export interface LoadedCapture {
  events: AsyncIterable<TraceEvent>;
  profile: string | undefined;
  /** Each event is one whole line (a transcript). */
  perLine: boolean;
}

/** Opens a capture for `doctor --log` through the importers: our JSONL or any foreign format, detected. */
export async function loadCapture(path: string, format = 'auto'): Promise<LoadedCapture> {
  if (format !== 'auto' && !(CAPTURE_FORMATS as readonly string[]).includes(format)) {
    throw new AtbridgeError('bad-option', `--format must be auto or one of ${CAPTURE_FORMATS.join(', ')}, not "${format}"`, { exitCode: ExitCode.usage });
  }
  const capture = await openCapture(path, { format: format as CaptureFormat | 'auto' });
  return { events: capture.events, profile: capture.profile, perLine: capture.perLine };
}
