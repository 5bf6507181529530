import type { ModuleProfile } from '../profile/index.js';
import { getProfile } from '../profile/index.js';
import { openCapture, type OpenCaptureOptions, type OpenedCapture } from '../trace/import/index.js';
import { Conversation } from './conversation.js';
import type { TimelineEntry } from './timeline.js';

export interface DecodeOptions extends OpenCaptureOptions {
  /** Profile id or path; guessed from the capture when absent. */
  profile?: string;
}

export interface DecodedCapture {
  capture: OpenedCapture;
  profile: ModuleProfile;
  /** Timeline entries in order, produced while the file is read (constant memory). */
  entries: AsyncGenerator<TimelineEntry>;
}

/**
 * Opens a capture of any supported format and runs the conversation model over it: the one
 * path decode, doctor --log and replay share.
 */
export async function decodeCapture(path: string, options: DecodeOptions = {}): Promise<DecodedCapture> {
  const capture = await openCapture(path, options);
  const profile = getProfile(options.profile ?? capture.profile);
  const conversation = new Conversation(profile, { perLine: capture.perLine });
  async function* entries(): AsyncGenerator<TimelineEntry> {
    let index = 0;
    for await (const event of capture.events) {
      yield* conversation.push(event, index++);
    }
    yield* conversation.flush();
  }
  return { capture, profile, entries: entries() };
}
