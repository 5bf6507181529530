import { Conversation } from '../decode/conversation.js';
import { printable } from '../decode/printable.js';
import type { TimelineEntry } from '../decode/timeline.js';
import type { ModuleProfile } from '../profile/index.js';
import type { TraceEvent } from '../trace/events.js';

/** Bytes the module sent, `delayMs` after the host's step began. */
export interface Reply {
  delayMs: number;
  data: Buffer;
}

/** One thing the host did (a command line or payload) and what the module answered to it. */
export interface ReplayStep {
  kind: 'command' | 'data';
  /** The command text (no line end), or the payload bytes as latin1. */
  text: string;
  host: Buffer;
  replies: Reply[];
  /** Recorded timeline entries of the answer (for side-by-side views). */
  answer: TimelineEntry[];
}

export interface ReplayScript {
  /** What the module said before the host's first command (banner). */
  banner: Reply[];
  steps: ReplayStep[];
}

/** How a step is named to a person: the command, or the payload's size and its first bytes, escaped. */
export function stepLabel(step: Pick<ReplayStep, 'kind' | 'text' | 'host'>, max = 40): string {
  if (step.kind === 'command') return step.text;
  // printable() counts bytes, not the characters its escapes take: cut the escaped text here.
  const text = printable(step.host, max);
  return `[${step.host.length} B] ${text.length > max ? `${text.slice(0, max - 1).replace(/\\(?:x[0-9a-f]?)?$/, '')}…` : text}`;
}

/**
 * Splits a recording into host steps and the module's replies, using the conversation model to
 * tell commands from payload and to find commands seen only as echoes (transcripts). Holds the
 * whole script in memory: replay is for session-sized captures.
 */
export async function buildScript(events: AsyncIterable<TraceEvent>, profile: ModuleProfile, perLine: boolean): Promise<ReplayScript> {
  const conversation = new Conversation(profile, { perLine, details: true });
  // The bytes to send are the recorded ones; the text shown has passwords masked.
  const recorded = (e: TimelineEntry) => Buffer.from(conversation.detailOf(e)?.raw ?? e.text, 'latin1');
  const script: ReplayScript = { banner: [], steps: [] };
  let stepT: number | undefined;
  let lastT: number | undefined;
  let index = 0;
  const current = (): ReplayStep | undefined => script.steps[script.steps.length - 1];
  const startStep = (step: Omit<ReplayStep, 'replies' | 'answer'>, t: number | undefined) => {
    script.steps.push({ ...step, replies: [], answer: [] });
    stepT = t ?? lastT;
  };
  for await (const event of events) {
    const entries = conversation.push(event, index++);
    if (event.t !== undefined) lastT = event.t;
    if (event.dir === 'note') continue;
    if (event.dir === 'tx') {
      for (const e of entries) {
        if (e.dir !== 'tx') continue;
        if (e.kind === 'command') startStep({ kind: 'command', text: e.text, host: Buffer.from(recorded(e).toString('latin1').trim(), 'latin1') }, event.t);
        else {
          const cur = current();
          const payload = e.socket ? event.data : recorded(e);
          // Consecutive payload writes with no answer between them are one step.
          if (cur && cur.kind === 'data' && cur.replies.length === 0) cur.host = Buffer.concat([cur.host, payload]);
          else startStep({ kind: 'data', text: payload.toString('latin1'), host: payload }, event.t);
        }
      }
      continue;
    }
    const inferred = entries.find((e) => e.kind === 'command' && e.inferred);
    if (inferred) startStep({ kind: 'command', text: inferred.text, host: Buffer.from(recorded(inferred).toString('latin1').trim(), 'latin1') }, event.t);
    const data = perLine && !/[\r\n]$/.test(event.data.toString('latin1')) ? Buffer.concat([event.data, Buffer.from('\r\n')]) : event.data;
    const reply: Reply = { delayMs: event.t !== undefined && stepT !== undefined ? Math.max(0, event.t - stepT) : 0, data };
    const step = current();
    if (step) {
      step.replies.push(reply);
      step.answer.push(...entries.filter((e) => e.dir === 'rx'));
    } else script.banner.push(reply);
  }
  return script;
}
