import { open } from 'node:fs/promises';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { TraceEvent } from '../trace/events.js';
import { readTrace } from '../trace/reader.js';

export interface LoadedCapture {
  events: AsyncIterable<TraceEvent>;
  profile: string | undefined;
  /** Each event is one whole line (a transcript). */
  perLine: boolean;
}

/** The importers' entry point, when src/trace/import provides one (owned by the decode work). */
interface ImporterModule {
  importCapture?: (path: string, options: { format: string }) => Promise<{ header?: { profile?: string } | undefined; events: AsyncIterable<TraceEvent> }>;
}

/**
 * Opens a capture for `doctor --log`: our JSONL trace directly; anything else through the
 * importers (src/trace/import) with format detection.
 */
export async function loadCapture(path: string, format = 'auto'): Promise<LoadedCapture> {
  const head = await readHead(path);
  if ((format === 'auto' || format === 'jsonl') && /^\s*\{/.test(head)) {
    const { header, events } = await readTrace(path);
    return { events, profile: header?.profile, perLine: header?.source !== undefined };
  }
  let importer: ImporterModule | undefined;
  try {
    importer = (await import(new URL('../trace/import/index.js', import.meta.url).href)) as ImporterModule;
  } catch {
    importer = undefined;
  }
  if (!importer?.importCapture) {
    throw new AtbridgeError('bad-input', `${path} is not an atbridge JSONL trace, and the transcript importers are not available in this build`, {
      exitCode: ExitCode.badInput,
      fix: 'record a trace with --trace FILE, or convert the capture with `atbridge decode --json`',
    });
  }
  const imported = await importer.importCapture(path, { format });
  return { events: imported.events, profile: imported.header?.profile, perLine: true };
}

async function readHead(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AtbridgeError('bad-input', code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${(err as Error).message}`, { exitCode: ExitCode.badInput });
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  } finally {
    await handle.close();
  }
}
