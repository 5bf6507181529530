import type { AtChannel } from '../at/channel.js';
import type { ModuleProfile, Vars } from '../profile/index.js';
import { runCommand, type CommandResult, type RunCommandOptions } from './run-command.js';

/** What every bring-up step needs: the channel, the profile in use, and how to report. */
export interface StepContext {
  channel: AtChannel;
  profile: ModuleProfile;
  vars: Vars;
  note: (text: string, fields?: Record<string, unknown>) => void;
  progress: (text: string) => void;
  signal: AbortSignal | undefined;
}

export function run(ctx: StepContext, name: string, options: RunCommandOptions = {}): Promise<CommandResult> {
  return runCommand(ctx.channel, ctx.profile, name, ctx.vars, { ...(ctx.signal ? { signal: ctx.signal } : {}), ...options });
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
