import { AtbridgeError, ExitCode, type AtErrorCode } from '../errors.js';

export type { AtErrorCode };

export class AtError extends AtbridgeError {
  readonly atCode: AtErrorCode;
  readonly command: string;
  /** Lines the module sent for this command, as evidence. */
  readonly lines: readonly string[];
  /** The module's own code (CME number, URC err value) and its meaning from the profile. */
  readonly moduleCode: string | undefined;
  readonly meaning: string | undefined;

  constructor(
    atCode: AtErrorCode,
    command: string,
    message: string,
    extra: { lines?: readonly string[]; moduleCode?: string; meaning?: string; exitCode?: number; fix?: string } = {},
  ) {
    super(`at-${atCode}`, message, {
      exitCode: extra.exitCode ?? (atCode === 'timeout' ? ExitCode.noResponse : ExitCode.failure),
      ...(extra.fix !== undefined ? { fix: extra.fix } : {}),
    });
    this.name = 'AtError';
    this.atCode = atCode;
    this.command = command;
    this.lines = extra.lines ?? [];
    this.moduleCode = extra.moduleCode;
    this.meaning = extra.meaning;
  }
}
