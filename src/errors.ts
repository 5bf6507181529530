/** Why a command did not succeed, as a value a program can test. */
export type AtErrorCode =
  | 'error' // ERROR
  | 'cme' // +CME ERROR: n
  | 'cms' // +CMS ERROR: n
  | 'no-carrier'
  | 'send-failed' // SEND FAIL / data phase error
  | 'urc-failed' // the completing URC carried a failure code
  | 'timeout'
  | 'urc-timeout'
  | 'module-busy'
  | 'link-closed'
  | 'garbled' // the answer arrived damaged (a noisy line): failed at once rather than after the timeout
  | 'aborted'
  | 'data-mode'; // the channel is in transparent mode

/**
 * Every code an {@link AtbridgeError} can carry. A program tests `err.code` against these; the
 * list is part of the public API (new codes may be added, none renamed). AT-layer failures carry
 * `at-` and an {@link AtErrorCode} (`at-timeout`, `at-cme` …).
 */
export const ERROR_CODES = [
  'bad-config',
  'bad-device',
  'bad-fault',
  'bad-input',
  'bad-option',
  'bad-output',
  'bad-topic-line',
  'baud-switch-failed',
  'bridge-failed',
  'client-id-conflict',
  'connection-refused',
  'control-path-exists',
  'emulator-control',
  'emulator-listen',
  'emulator-pty',
  'escape-failed',
  'keepalive-timeout',
  'line-corruption',
  'link-closed',
  'local-closed',
  'metrics-listen',
  'modem-closed',
  'modemmanager-holds-port',
  'module-dead',
  'module-rebooted',
  'mqtt-already-started',
  'mqtt-bad-client-id',
  'mqtt-bad-topic',
  'mqtt-closed',
  'mqtt-connect-failed',
  'mqtt-connect-refused',
  'mqtt-connect-timeout',
  'mqtt-connection-lost',
  'mqtt-disconnected',
  'mqtt-link-error',
  'mqtt-malformed',
  'mqtt-packet-too-large',
  'mqtt-publish-refused',
  'netopen-failed',
  'network-closed',
  'no-modem-control',
  'no-response',
  'no-traffic',
  'not-registered',
  'port-missing',
  'port-open-failed',
  'port-busy',
  'port-permission',
  'profile-invalid',
  'profile-missing',
  'pty-path-exists',
  'queue-dropped',
  'queue-locked',
  'queue-open-failed',
  'record-pty',
  'registration-denied',
  'remote-closed',
  'replay-pty',
  'send-failed',
  'sim-failure',
  'sim-missing',
  'sim-not-ready',
  'sim-pin-required',
  'sim-pin-wrong',
  'sim-puk-required',
  'socket-closed',
  'socket-failed',
  'socket-in-use',
  'socket-open-failed',
  'tcp-failed',
  'tcp-timeout',
  'tls-failed',
  'unknown-module',
  'wifi-ap-not-found',
  'wifi-disconnected',
  'wifi-join-failed',
  'wifi-join-timeout',
  'wifi-not-configured',
  'wifi-wrong-password',
  'wrong-port',
] as const;

/** The code of an {@link AtbridgeError}: one of {@link ERROR_CODES}, or `at-` and an AT-layer code. */
export type ErrorCode = (typeof ERROR_CODES)[number] | `at-${AtErrorCode}`;

/**
 * Errors are values with a stable code a program can test and a message a person can act on.
 * The CLI prints `message` (and `fix` when present) on one line each and exits with `exitCode`.
 */
export class AtbridgeError extends Error {
  /** Stable code a program can test (see {@link ERROR_CODES}). */
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly fix: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
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
export function isAtbridgeError(err: unknown, code?: ErrorCode): err is AtbridgeError {
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

