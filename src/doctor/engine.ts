import { commandName, type ModuleProfile } from '../profile/index.js';
import { shippedRoleSends } from '../profile/send-commands.js';
import type { ClassifiedEvent } from './classify-events.js';
import type { Evidence, Finding, FindingId, Severity } from './findings.js';
import { evidenceText, finding, mergeFindings } from './findings.js';
import { maskIdentifiersInText } from '../trace/identifiers.js';

/** One host command and everything the module said until its final result. */
export interface Exchange {
  command: string;
  /** `AT+CIPSEND=0,5` → `AT+CIPSEND`. */
  name: string;
  start: ClassifiedEvent;
  replies: ClassifiedEvent[];
  final: ClassifiedEvent | undefined;
  /** A rule explained this exchange's failure (command-rejected then stays quiet). */
  explained: boolean;
}

export interface Rule {
  readonly name: string;
  onEvent?(event: ClassifiedEvent, c: Conversation): void;
  /** A command finished (final result), or the next command started without one. */
  onExchange?(exchange: Exchange, c: Conversation): void;
  finish?(c: Conversation): void;
}

/**
 * Commands that restart the module: every shipped profile's `reset` and `factoryReset` roles, and
 * V.250 / TS 27.007's own (AT&F, AT+CFUN=1,1). AT+CFUN=0 takes the radio down: banners may follow.
 */
let resets: { restart: RegExp; any: RegExp } | undefined;
function resetCommands(): { restart: RegExp; any: RegExp } {
  if (resets) return resets;
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const restart = [...shippedRoleSends(['reset', 'factoryReset']), 'AT+CFUN=1,1', 'AT&F'].map(escape).join('|');
  resets = { restart: new RegExp(`^(?:${restart})(?![A-Z0-9_])`, 'i'), any: new RegExp(`^(?:${restart}|AT\\+CFUN=0)(?![A-Z0-9_])`, 'i') };
  return resets;
}

/** A host program's own print that it is (re)starting the module: short, not a sentence about it. */
const HOST_RESTART = /^[\W\d_]*(?:\[[^\]]*\]\s*:?\s*)*(?:(?:(?:re)?start(?:ing)?|reset(?:ting)?|reboot(?:ing)?|initiali[sz]ing|power(?:ing)? (?:on|up)|turn(?:ing)? on)\s+(?:or reset|(?:the\s+)?(?:esp\w*|gsm|sim\w*|modem|module)(?:\s+(?:module|modem))?)|(?:modem|module|gsm) power(?:ed)? on)\s*(?:\(.*\))?[.!]*\s*$/i;

export function saysHostRestarts(text: string): boolean {
  const t = text.trim();
  return t.length <= 60 && HOST_RESTART.test(t);
}

/**
 * What rules share about the conversation so far: the exchange in progress, whether the module
 * ever answered, and whether the host asked for a reset (a banner then is expected, not a fault).
 */
export class Conversation {
  readonly findings: Finding[] = [];
  current: Exchange | undefined;
  answeredAny = false;
  commands = 0;
  /** `commands` when the host last sent a reset command. */
  resetAtCommand = -1;
  /** Last few exchanges, newest last (rules look back a little, never far). */
  readonly recent: Exchange[] = [];

  constructor(readonly profile: ModuleProfile) {}

  add(id: FindingId, summary: string, evidence: readonly (ClassifiedEvent | Evidence)[], options: { severity?: Severity; fix?: string } = {}): void {
    this.findings.push(finding(id, summary, evidence.map(toEvidence), options));
  }

  /** `commands` when the host program last printed that it restarts the module (no command for it in the log). */
  hostRestartAtCommand = -100;

  /** A start-up banner now is the one the host program said it was bringing about (within a few commands of its print). */
  get bannerExpected(): boolean {
    return this.commands - this.hostRestartAtCommand <= 8;
  }

  /** The host asked for a reset and the module's start-up banner has not come yet (a restart takes seconds). */
  resetPending = false;

  /** Within the first few commands after a host-requested reset, or until its banner came. */
  get afterHostReset(): boolean {
    return this.resetAtCommand >= 0 && (this.commands - this.resetAtCommand <= 2 || this.resetPending);
  }

  explain(code: string | undefined, table: string): string | undefined {
    return this.profile.explain(table, code);
  }
}

export function toEvidence(e: ClassifiedEvent | Evidence): Evidence {
  if ('kind' in e) {
    // An IMEI/IMSI/ICCID answer as evidence: masked as traces keep it (a bare one by the command it answers).
    const out: Evidence = { index: e.index, dir: e.dir, text: evidenceText(e.dir === 'rx' ? maskIdentifiersInText(e.text, e.command) : e.text) };
    if (e.line !== undefined) out.line = e.line;
    return out;
  }
  return e;
}

/** Runs every rule over one stream of classified events: the same path for a live probe and a log. */
export class RuleEngine {
  readonly conversation: Conversation;

  constructor(
    profile: ModuleProfile,
    private readonly rules: readonly Rule[],
  ) {
    this.conversation = new Conversation(profile);
  }

  push(event: ClassifiedEvent): void {
    const c = this.conversation;
    const startsCommand = event.kind === 'command' || (event.kind === 'echo' && event.dir === 'rx' && c.current?.command !== event.text.trim() && event.command === event.text.trim());
    if (startsCommand) {
      this.closeExchange();
      const text = event.text.trim();
      c.commands++;
      if (resetCommands().any.test(text)) {
        c.resetAtCommand = c.commands;
        c.resetPending = resetCommands().restart.test(text);
      }
      c.current = { command: text, name: commandName(text), start: event, replies: [], final: undefined, explained: false };
    } else if (c.current && event.dir === 'rx' && event.kind !== 'note') {
      c.current.replies.push(event);
    }
    // Another capture pasted after the first: its start-up is expected, as after a host reset.
    if (event.dir === 'note' && event.fields?.newCapture === true) c.resetAtCommand = c.commands;
    // Another person's post in a pasted thread: what follows answers no command of the post before.
    if (event.dir === 'note' && event.fields?.newPost === true) this.closeExchange();
    // The host program saying it powers on or resets the module (`Initializing modem...` before
    // TinyGSM's restart, `### Turn on or reset.`, `Resetting ESP module`): its start-up is expected.
    if ((event.dir === 'note' || (event.dir === 'rx' && (event.kind === 'noise' || event.kind === 'info'))) && saysHostRestarts(event.text)) {
      c.hostRestartAtCommand = c.commands;
    }
    for (const rule of this.rules) rule.onEvent?.(event, c);
    // The banner after a host reset ends the wait for it (a banner later is a restart again).
    if (c.resetPending && event.dir === 'rx' && (event.classified?.reboot || event.classified?.urc?.event === 'boot')) c.resetPending = false;
    if (event.kind === 'final') {
      c.answeredAny = true;
      if (c.current) {
        c.current.final = event;
        this.closeExchange();
      }
    }
  }

  finish(): Finding[] {
    this.closeExchange();
    for (const rule of this.rules) rule.finish?.(this.conversation);
    return mergeFindings(this.conversation.findings);
  }

  private closeExchange(): void {
    const c = this.conversation;
    const ex = c.current;
    if (!ex) return;
    c.current = undefined;
    for (const rule of this.rules) rule.onExchange?.(ex, c);
    c.recent.push(ex);
    if (c.recent.length > 40) c.recent.shift();
  }
}
