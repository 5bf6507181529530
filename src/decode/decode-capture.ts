import type { ModuleProfile } from '../profile/index.js';
import { getProfile } from '../profile/index.js';
import { openCapture, type OpenCaptureOptions, type OpenedCapture } from '../trace/import/index.js';
import { Conversation } from './conversation.js';
import { guessFamily, profileForFamily, type FamilyGuess } from './family.js';
import type { TimelineEntry } from './timeline.js';

/** Options of decoding: the capture format and the profile to read it with. */
export interface DecodeOptions extends OpenCaptureOptions {
  /** Profile id or path; guessed from the capture when absent. */
  profile?: string;
}

export interface DecodedCapture {
  capture: OpenedCapture;
  profile: ModuleProfile;
  /** The module family guessed from the content (no --profile, a foreign capture), and why. */
  family: FamilyGuess | undefined;
  /** Timeline entries in order, produced while the file is read (constant memory). */
  entries: AsyncGenerator<TimelineEntry>;
  /**
   * The same entries a batch of trace events at a time (a chunk of a JSONL file): one await per
   * batch instead of one per entry, for the hot loop of decode on large captures. Use either this
   * or `entries`, not both.
   */
  batches: AsyncGenerator<TimelineEntry[]>;
}

/**
 * Opens a capture of any supported format and runs the conversation model over it: the one
 * path decode, doctor --log and replay share.
 */
export async function decodeCapture(path: string, options: DecodeOptions = {}): Promise<DecodedCapture> {
  const capture = await openCapture(path, options);
  const family = options.profile === undefined && capture.format !== 'jsonl' ? guessFamily(capture.sampleText) : undefined;
  const profile = options.profile !== undefined ? getProfile(options.profile) : family ? profileForFamily(family) : getProfile(capture.profile);
  const conversation = new Conversation(profile, { perLine: capture.perLine });
  async function* batches(): AsyncGenerator<TimelineEntry[]> {
    let index = 0;
    for await (const events of capture.batches) {
      // The entries of a whole batch of events at once: one await per chunk of the file.
      let out: TimelineEntry[] | undefined;
      for (const event of events) {
        const entries = conversation.push(event, index++);
        if (entries.length === 0) continue;
        if (out === undefined) out = entries;
        else for (const e of entries) out.push(e);
      }
      if (out !== undefined) yield out;
    }
    yield conversation.flush();
  }
  async function* entries(): AsyncGenerator<TimelineEntry> {
    for await (const batch of batches()) for (const entry of batch) yield entry;
  }
  return { capture, profile, family, entries: entries(), batches: batches() };
}
