/**
 * A usage error of pub/sub/rr: `text` is exactly what mosquitto_pub/sub/rr print on stderr (with its
 * own blank lines); the caller adds "\nUse '<name> --help' to see usage.\n" and exits 1.
 */
export class MosqUsageError extends Error {
  constructor(readonly text: string, readonly withUsageHint = true) {
    super(text.trim());
    this.name = 'MosqUsageError';
  }
}

/** A failure after the options were accepted (a file that cannot be read, a refused connection): text as is, exit 1. */
export class MosqRunError extends Error {
  constructor(readonly text: string, readonly exitCode = 1) {
    super(text.trim());
    this.name = 'MosqRunError';
  }
}
