import type { TraceEvent, TraceHeader } from '../events.js';

/** The capture formats `--format` accepts ('auto' detects one of the others). */
export const CAPTURE_FORMATS = ['jsonl', 'raw', 'transcript', 'socat', 'interceptty', 'logic-csv', 'usbmon'] as const;
/** The capture formats `openCapture` reads. */
export type CaptureFormat = (typeof CAPTURE_FORMATS)[number];

/**
 * The profile a capture is read with: the one its header or its identification note names (any
 * shipped profile), else guessed from its content.
 */
export type ProfileGuess = string;

export interface ImportOptions {
  /** Direction of a raw dump: one side only, or both sides merged on one wire (default). */
  rawDirection?: 'rx' | 'tx' | 'merged';
  /** usbmon captures: the USB interface number of the AT port (found from the traffic when absent). */
  usbInterface?: number;
}

/** A capture opened for reading: events stream in constant memory. */
export interface OpenedCapture {
  format: CaptureFormat;
  /** Our JSONL header, or one made up for a foreign capture. */
  header: TraceHeader | undefined;
  /** Profile named by the header, else guessed from the first part of the file. */
  profile: ProfileGuess;
  /** Each event is one whole line (pasted transcripts): a line ends at the event even without CR/LF. */
  perLine: boolean;
  /** File size in bytes (for progress), when known. */
  size: number | undefined;
  /** Bytes of the file read so far (for progress). */
  bytesRead(): number;
  events: AsyncGenerator<TraceEvent>;
  /** The same events in batches (a chunk of a JSONL file, one event of other formats): read either this or `events`. */
  batches: AsyncGenerator<TraceEvent[]>;
  /** The text of the first part of the capture (traffic and notes), for guessing the module family. */
  sampleText: string;
}
