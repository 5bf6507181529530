import type { AtChannel } from '../at/channel.js';
import type { ModuleProfile, Vars } from '../profile/index.js';
import { runCommand, type CommandResult, type RunCommandOptions } from './run-command.js';

/**
 * How often a bring-up step is sent again when its answer arrived damaged. At 0.3 % of bytes
 * flipped about one short exchange in ten is damaged; two resends make a failed step one in a
 * thousand, where before one damaged answer failed the whole bring-up and started it over.
 */
export const GARBLED_RETRIES = 2;

/** What every bring-up step needs: the channel, the profile in use, and how to report. */
export interface StepContext {
  channel: AtChannel;
  profile: ModuleProfile;
  vars: Vars;
  note: (text: string, fields?: Record<string, unknown>) => void;
  progress: (text: string) => void;
  signal: AbortSignal | undefined;
}

/**
 * Runs one command role. A refused command whose spec names `recoverWith` (data: e.g. "the socket
 * mode can only change while the network is closed") runs those steps, then itself once more.
 */
export async function run(ctx: StepContext, name: string, options: RunCommandOptions = {}): Promise<CommandResult> {
  const once = (opts: RunCommandOptions): Promise<CommandResult> =>
    runCommand(ctx.channel, ctx.profile, name, ctx.vars, { garbledRetries: GARBLED_RETRIES, ...(ctx.signal ? { signal: ctx.signal } : {}), ...opts });
  const recover = ctx.profile.hasCommand(name) ? ctx.profile.command(name).recoverWith : undefined;
  if (!recover || recover.length === 0) return once(options);
  const first = await once({ ...options, optional: true });
  if (first.ok) return first;
  ctx.note(`${name}: refused; running ${recover.join(', ')} first, then again`);
  for (const step of recover) await runCommand(ctx.channel, ctx.profile, step, ctx.vars, { garbledRetries: GARBLED_RETRIES, ...(ctx.signal ? { signal: ctx.signal } : {}), optional: true });
  return once(options);
}

/** Runs each step of a chat script in order; the groups of all steps merged. */
export async function runScript(ctx: StepContext, script: string): Promise<Record<string, string>> {
  const groups: Record<string, string> = {};
  for (const name of ctx.profile.script(script)) {
    if (!ctx.profile.hasCommand(name)) continue;
    Object.assign(groups, (await run(ctx, name)).groups);
  }
  return groups;
}
