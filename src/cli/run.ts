import pc from 'picocolors';
import { AtbridgeError, ExitCode } from '../errors.js';

/**
 * Runs a command action: bad input and module faults end as one clear line (plus a fix)
 * and a distinct exit code, never a stack trace. ATBRIDGE_DEBUG=1 shows the stack.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : ExitCode.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  if (err instanceof AtbridgeError) {
    process.stderr.write(`${pc.red('atbridge:')} ${err.message}\n`);
    if (err.fix) process.stderr.write(`${pc.dim('  fix:')} ${err.fix}\n`);
    if (process.env.ATBRIDGE_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${pc.red('atbridge:')} ${message}\n`);
  if (process.env.ATBRIDGE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
  return ExitCode.failure;
}

/** Parses an integer option with a one-line error on bad input. */
export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new AtbridgeError('bad-option', `${name} must be an integer from ${min} to ${max}, not "${value}"`, {
        exitCode: ExitCode.usage,
      });
    }
    return n;
  };
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
