import type { ClassifiedLine } from '../at/classify.js';
import { looksLikeCommand } from '../at/classify.js';
import { Conversation } from '../decode/conversation.js';
import type { MqttSummary, SocketData, TimelineEntry } from '../decode/timeline.js';
import type { ModuleProfile } from '../profile/index.js';
import type { TraceEvent } from '../trace/events.js';
import { redactCommandLine } from '../trace/redact.js';

/** One thing that happened on the line, classified: the unit every doctor rule reads. */
export interface ClassifiedEvent {
  /** Index of the trace event it came from (evidence). */
  index: number;
  /** Line number in the original file, when the source had one. */
  line: number | undefined;
  t: number | undefined;
  /** A command seen only as the module's echo (the host side was not captured) is 'rx'. */
  dir: 'tx' | 'rx' | 'note';
  kind: TimelineEntry['kind'];
  /** The module's lines raw (latin1 view of the bytes): noise rules need them undecoded. The host's side is as decode shows it, passwords masked. */
  text: string;
  /** The host command this belongs to (in flight when it arrived). */
  command: string | undefined;
  classified?: ClassifiedLine;
  fields?: Record<string, unknown>;
  socket?: SocketData;
  /** MQTT packets completed by this socket data. */
  mqtt?: MqttSummary[];
}

export interface ClassifyOptions {
  /** Each event is one whole line (imported transcripts): end it even without CR/LF. */
  perLine?: boolean;
}

/**
 * Trace events in, classified events out, through decode's conversation model: the doctor reads a
 * log exactly as decode shows it (the same framing, echo handling, send payloads, transparent
 * mode and MQTT), with the raw text its noise rules need.
 */
export class EventClassifier {
  private readonly conversation: Conversation;

  constructor(profile: ModuleProfile, options: ClassifyOptions = {}) {
    this.conversation = new Conversation(profile, { perLine: options.perLine ?? false, details: true });
  }

  push(event: TraceEvent, index: number): ClassifiedEvent[] {
    return this.conversation.push(event, index).map((e) => this.toClassified(e));
  }

  /** End of the capture: whatever half-line is left. */
  flush(): ClassifiedEvent[] {
    return this.conversation.flush().map((e) => this.toClassified(e));
  }

  private toClassified(entry: TimelineEntry): ClassifiedEvent {
    const detail = this.conversation.detailOf(entry);
    const raw = detail?.raw ?? entry.text;
    // A host still typing commands into a passthrough session (it thinks the module is in command
    // mode): the rules must see them as commands, unanswered ones being the evidence.
    const typedIntoSocket = entry.dir === 'tx' && entry.socket?.via === 'transparent' && looksLikeCommand(raw.trim());
    // Raw bytes for the noise rules (the module's side); the host's side as shown, passwords masked.
    const text = typedIntoSocket ? redactCommandLine(raw.trim()) : entry.dir === 'rx' && entry.kind !== 'echo' ? raw : entry.text;
    // The rules read a command known only from its echo as the module's line that starts it.
    const echoOnly = entry.kind === 'command' && entry.inferred === true;
    const kind = echoOnly ? 'echo' : typedIntoSocket ? 'command' : entry.kind;
    const out: ClassifiedEvent = {
      index: entry.event,
      line: entry.line,
      t: entry.t,
      dir: echoOnly ? 'rx' : entry.dir,
      kind,
      text,
      command: echoOnly || kind === 'command' ? text.trim() : entry.command,
    };
    if (detail?.classified) out.classified = detail.classified;
    if (entry.fields) out.fields = entry.fields;
    if (entry.socket) out.socket = entry.socket;
    if (entry.mqtt) out.mqtt = entry.mqtt;
    return out;
  }
}
