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

/**
 * The ways a link or a modem session ends, as one typed set: code that decides what to do after
 * a failure compares through these helpers, never with string literals, so a code wrapped by a
 * layer (an AtError's `at-link-closed`) cannot slip past as "something else, retry".
 */
export const EndCode = {
  /** The byte stream to the module is gone (unplugged, TCP reset, EOF, EIO). */
  linkClosed: 'link-closed',
  /** The session object itself was closed (by the owner, or because its link died). */
  modemClosed: 'modem-closed',
  moduleRebooted: 'module-rebooted',
  moduleDead: 'module-dead',
  networkClosed: 'network-closed',
  wifiDisconnected: 'wifi-disconnected',
} as const;
export type EndCode = (typeof EndCode)[keyof typeof EndCode];

/** The code of an error (AtbridgeError.code, with a layer prefix such as `at-` kept), or ''. */
export function codeOf(err: unknown): string {
  if (err instanceof AtbridgeError) return err.code;
  if (typeof err === 'string') return err;
  return '';
}

/** Strips a layer prefix (`at-link-closed` → `link-closed`). */
function bareCode(code: string): string {
  return code.replace(/^at-/, '');
}

/** True when the error (or code) says the link to the module closed, at any layer. */
export function isLinkClosed(err: unknown): boolean {
  return bareCode(codeOf(err)) === EndCode.linkClosed;
}

/** True when the session cannot be used again: its link closed, or it was closed. A new one must be opened. */
export function isSessionOver(err: unknown): boolean {
  const code = bareCode(codeOf(err));
  return code === EndCode.linkClosed || code === EndCode.modemClosed;
}

