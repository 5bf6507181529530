/**
 * A reader that goes away early (`atbridge decode big.jsonl | head`) is a normal end, as for any
 * Unix filter: exit quietly instead of dying on EPIPE with a stack trace. Other output errors are
 * one line.
 */
export function endQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') process.stderr.write(`atbridge: cannot write output: ${err.message}\n`);
      process.exit(err.code === 'EPIPE' ? (typeof process.exitCode === 'number' ? process.exitCode : 0) : 1);
    });
  }
}
