/**
 * Errors are values with a stable code a program can test and a message a person can act on.
 * The CLI prints `message` (and `fix` when present) on one line each and exits with `exitCode`.
 */
export class AtbridgeError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly fix: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: number; fix?: string; cause?: unknown; detail?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtbridgeError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.fix = options.fix;
    this.detail = options.detail;
  }
}

/** True when `err` is an {@link AtbridgeError} (and has `code`, when given). */
export function isAtbridgeError(err: unknown, code?: string): err is AtbridgeError {
  return err instanceof AtbridgeError && (code === undefined || err.code === code);
}

/** Exit codes documented in the README ("Exit codes"). Kept in one place so they never collide. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  portMissing: 10,
  portPermission: 11,
  portBusy: 12,
  noResponse: 13,
  simMissing: 14,
  simPin: 15,
  wifiAuth: 16,
  wifiNotFound: 17,
  notRegistered: 18,
  networkFailed: 19,
  socketFailed: 20,
  escapeFailed: 21,
  moduleDead: 22,
  badInput: 23,
} as const;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
