import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AtbridgeError, ExitCode } from '../errors.js';
import { fsReason } from '../fs-reason.js';

/**
 * The options that name a file a command writes (attribute names as commander gives them) and
 * the one that names a directory it fills (made with its parents when missing). Checked before
 * any work starts (src/cli.ts's preAction hook, pub/sub/rr's runTool, the bridge's config file),
 * so an unwritable path is one line and exit 2, never a capture lost after the run.
 */
export const OUTPUT_FILE_OPTIONS = ['trace', 'html', 'pcap', 'out', 'jtl'] as const;
export const OUTPUT_DIR_OPTIONS = ['traceDir'] as const;

function cannotWrite(path: string, reason: string): AtbridgeError {
  return new AtbridgeError('bad-output', `cannot write ${path}: ${reason}`, { exitCode: ExitCode.usage });
}

function stat(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** A directory that must exist and take new files. */
function checkDirectoryTakesFiles(dir: string, path: string): void {
  const info = stat(dir);
  if (info === undefined) throw cannotWrite(path, `directory ${dir} does not exist`);
  if (!info.isDirectory()) throw cannotWrite(path, `${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw cannotWrite(path, `${fsReason(err)} in ${dir}`);
  }
}

/** A file the command creates, appends to or replaces: it is writable, or its directory takes new files. */
export function checkWritableFile(path: string): void {
  try {
    const info = stat(path);
    if (info === undefined) return checkDirectoryTakesFiles(dirname(resolve(path)), path);
    if (info.isDirectory()) throw cannotWrite(path, 'it is a directory');
    accessSync(path, constants.W_OK);
  } catch (err) {
    if (err instanceof AtbridgeError) throw err;
    throw cannotWrite(path, fsReason(err));
  }
}

/** A directory the command fills (mkdir -p when missing): it takes files, or its nearest existing ancestor does. */
export function checkWritableDirectory(path: string): void {
  try {
    let dir = resolve(path);
    for (;;) {
      const info = stat(dir);
      if (info !== undefined) {
        if (!info.isDirectory()) throw cannotWrite(path, `${dir} is not a directory`);
        try {
          accessSync(dir, constants.W_OK | constants.X_OK);
        } catch (err) {
          throw cannotWrite(path, dir === resolve(path) ? fsReason(err) : `${fsReason(err)} in ${dir}`);
        }
        return;
      }
      const parent = dirname(dir);
      if (parent === dir) return;
      dir = parent;
    }
  } catch (err) {
    if (err instanceof AtbridgeError) throw err;
    throw cannotWrite(path, fsReason(err));
  }
}

/** Checks every output path among parsed options (commander's attribute names); throws the first problem. */
export function checkOutputOptions(opts: Record<string, unknown>): void {
  // A --pty link is made at its path: its directory must take it (what is already there, each command checks).
  if (typeof opts.pty === 'string' && opts.pty !== '' && stat(opts.pty) === undefined) checkWritableFile(opts.pty);
  for (const key of OUTPUT_FILE_OPTIONS) {
    const value = opts[key];
    if (typeof value === 'string' && value !== '') checkWritableFile(value);
  }
  for (const key of OUTPUT_DIR_OPTIONS) {
    const value = opts[key];
    if (typeof value === 'string' && value !== '') checkWritableDirectory(value);
  }
}
