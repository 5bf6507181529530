import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AtbridgeError, ExitCode } from '../errors.js';

/** What socat's `link=` points at: a Linux pty (/dev/pts/N), or a macOS one (/dev/ttysNNN). */
const PTY_DEVICE = /^\/dev\/(?:pts\/\d+|ttys\d+)$/;

/**
 * socat's `link=PATH` replaces whatever is at PATH and removes it on exit, so a mistyped path
 * would delete a file. Nothing there is fine, and so is a symlink to a pty (a stale link left by
 * a killed earlier run); anything else is refused before socat starts.
 */
export function checkPtyLinkPath(path: string): void {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch {
    // Not there (or not reachable: socat reports that in its own words).
    return;
  }
  if (stat.isSymbolicLink()) {
    let target: string | undefined;
    try {
      target = resolve(dirname(path), readlinkSync(path));
    } catch {
      target = undefined;
    }
    if (target !== undefined && PTY_DEVICE.test(target)) return;
  }
  throw new AtbridgeError('pty-path-exists', `${path} exists and is not a pty link: not replacing it`, {
    exitCode: ExitCode.usage,
    fix: `give --pty a path that does not exist yet (the pty link is made there and removed on exit), or remove ${path} yourself`,
  });
}
