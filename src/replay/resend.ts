import { Conversation } from '../decode/conversation.js';
import type { TimelineEntry } from '../decode/timeline.js';
import type { ModuleProfile } from '../profile/index.js';
import type { Link } from '../transport/link.js';
import type { ReplayScript } from './script.js';

export interface ResendResult {
  /** The new answer to each recorded step, in order. */
  answers: TimelineEntry[][];
}

export interface ResendOptions {
  /** Longest wait for a final result (default: the profile's timeout for the command). */
  timeoutMs?: number;
  /** After a payload or a final, wait this long for URCs that belong to the step. */
  settleMs?: number;
  /** Every byte both ways (a TraceWriter). */
  onTx?: (data: Buffer) => void;
}

/**
 * Sends the host side of a recording to a module, step by step: each command with the profile's
 * line ending, then waits for its final result or a '>' prompt (so payload goes at the right
 * moment), each payload as recorded. The module's answers are run through the conversation
 * model, giving entries to show next to the recorded ones.
 */
export async function resend(script: ReplayScript, link: Link, profile: ModuleProfile, options: ResendOptions = {}): Promise<ResendResult> {
  const conversation = new Conversation(profile);
  const started = performance.now();
  let wake: (() => void) | undefined;
  let collected: TimelineEntry[] = [];
  let eventIndex = 0;
  const onData = (chunk: Buffer) => {
    const entries = conversation.push({ t: performance.now() - started, dir: 'rx', data: chunk }, eventIndex++);
    collected.push(...entries);
    if (entries.some((e) => e.kind === 'final' || e.kind === 'prompt')) wake?.();
  };
  link.on('data', onData);
  const answers: TimelineEntry[][] = [];
  try {
    for (const step of script.steps) {
      collected = [];
      const data = step.kind === 'command' ? Buffer.from(step.text + profile.lineEnding, 'latin1') : step.host;
      conversation.push({ t: performance.now() - started, dir: 'tx', data }, eventIndex++);
      options.onTx?.(data);
      const waitMs = step.kind === 'command' ? (options.timeoutMs ?? profile.timeoutFor(step.text)) : (options.settleMs ?? 1000);
      const answered = new Promise<void>((resolve) => (wake = resolve));
      await link.write(data);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([answered, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
      await new Promise((r) => setTimeout(r, options.settleMs ?? 50));
      answers.push(collected);
    }
  } finally {
    link.off('data', onData);
  }
  return { answers };
}
