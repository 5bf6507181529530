import type { AtChannel, AtResponse } from '../at/channel.js';
import { AtError } from '../at/errors.js';
import type { ModuleProfile, Vars } from '../profile/index.js';
import type { CommandSpecT } from '../profile/schema.js';

export interface CommandResult {
  /** False when an optional command failed or a `when` variable was missing (skipped). */
  ok: boolean;
  skipped: boolean;
  /** Groups from the `match` line and the awaited URC. */
  groups: Record<string, string>;
  response: AtResponse | undefined;
}

export interface RunCommandOptions {
  data?: Buffer;
  signal?: AbortSignal;
  /** Overrides the spec's `optional` (a probe that must not throw). */
  optional?: boolean;
  timeoutMs?: number;
  /**
   * Sends the command again when its answer arrived damaged (a noisy line), this many times. Only
   * for commands without data: resending a send would send its data twice. Bring-up steps ask
   * for it; the socket's commands fail fast instead, so the connection is made again.
   */
  garbledRetries?: number;
}

/**
 * Runs one named command of the profile (a chat-script step): fills its template, applies its
 * finals/prompt/URC rules, extracts its `match` groups, and turns the module's answer into a
 * typed error unless the step is optional or the error says the job is already done.
 */
export async function runCommand(
  channel: AtChannel,
  profile: ModuleProfile,
  name: string,
  vars: Vars = {},
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  let retries = profile.command(name).prompt || options.data ? 0 : (options.garbledRetries ?? 0);
  for (;;) {
    try {
      return await runCommandOnce(channel, profile, name, vars, options);
    } catch (err) {
      // The channel resyncs before the next command, so the resend is not answered by a late line.
      if (err instanceof AtError && err.atCode === 'garbled' && retries-- > 0) continue;
      throw err;
    }
  }
}

async function runCommandOnce(
  channel: AtChannel,
  profile: ModuleProfile,
  name: string,
  vars: Vars,
  options: RunCommandOptions,
): Promise<CommandResult> {
  const spec = profile.command(name);
  if (spec.when !== undefined && (vars[spec.when] === undefined || vars[spec.when] === '')) {
    return { ok: true, skipped: true, groups: {}, response: undefined };
  }
  const text = profile.fill(spec.send, vars);
  const optional = options.optional ?? spec.optional ?? false;
  const attempts = 1 + (spec.retries ?? 0);
  let lastError: AtError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await delay(spec.retryDelayMs ?? 1000);
    try {
      const response = await channel.send(text, {
        ...(options.timeoutMs ?? spec.timeoutMs ? { timeoutMs: options.timeoutMs ?? spec.timeoutMs } : {}),
        ...(spec.finals ? { finals: spec.finals } : {}),
        ...(spec.prompt ? { prompt: true } : {}),
        ...(options.data ? { data: options.data } : {}),
        ...(spec.dataFinals ? { dataFinals: spec.dataFinals } : {}),
        ...(spec.dataMode ? { enterDataMode: true } : {}),
        ...(spec.settleMs !== undefined ? { settleMs: spec.settleMs } : {}),
        ...(spec.awaitUrc ? { awaitUrc: awaitUrcOf(profile, spec.awaitUrc, vars) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const groups: Record<string, string> = { ...response.groups };
      const matcher = spec.match ? new RegExp(spec.match) : undefined;
      if (matcher) {
        for (const line of response.lines) {
          const m = matcher.exec(line.trim());
          if (m) Object.assign(groups, m.groups);
        }
      }
      if (!response.ok) {
        if (isAlreadyDone(spec.alreadyDone, response)) return { ok: true, skipped: false, groups, response };
        lastError = response.error ?? new AtError('error', text, `${text}: ${response.final}`);
        continue;
      }
      if (spec.awaitUrc && response.urc) {
        Object.assign(groups, response.urc.groups);
        const code = response.urc.groups[spec.awaitUrc.group];
        const success = successValues(spec.awaitUrc.success, vars);
        if (code !== undefined && !success.includes(code)) {
          const meaning = profile.explain(spec.awaitUrc.table, code);
          lastError = new AtError('urc-failed', text, `${text}: ${response.urc.line.trim()}${meaning ? ` (${meaning})` : ''}`, {
            lines: response.lines,
            moduleCode: code,
            ...(meaning ? { meaning } : {}),
          });
          continue;
        }
      }
      return { ok: true, skipped: false, groups, response };
    } catch (err) {
      if (!(err instanceof AtError)) throw err;
      // A lost link, a cancel or a missing answer are not a "no" from the module: never swallow them.
      if (err.atCode !== 'error' && err.atCode !== 'cme' && err.atCode !== 'cms') throw err;
      lastError = err;
    }
  }
  if (optional) return { ok: false, skipped: false, groups: {}, response: undefined };
  throw lastError ?? new AtError('error', text, `${text} failed`);
}

function awaitUrcOf(profile: ModuleProfile, awaitUrc: NonNullable<CommandSpecT['awaitUrc']>, vars: Vars) {
  const success = successValues(awaitUrc.success, vars);
  return {
    pattern: profile.fillPattern(awaitUrc.pattern, vars),
    timeoutMs: awaitUrc.timeoutMs,
    ...(awaitUrc.followsFinal ? { followsFinal: true } : {}),
    succeeded: (groups: Record<string, string>) => groups[awaitUrc.group] === undefined || success.includes(groups[awaitUrc.group]!),
  };
}

function successValues(success: readonly string[], vars: Vars): string[] {
  return success.map((s) => s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? '')));
}

function isAlreadyDone(patterns: readonly string[] | undefined, response: AtResponse): boolean {
  if (!patterns) return false;
  const regexes = patterns.map((p) => new RegExp(p));
  return [...response.lines, response.final].some((line) => regexes.some((r) => r.test(line.trim())));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
