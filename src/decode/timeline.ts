/**
 * The conversation model's output: one entry per thing that happened on the line, in order.
 * decode prints these, doctor rules read them, replay builds its script from them.
 */
export type EntryKind = 'command' | 'echo' | 'info' | 'final' | 'urc' | 'busy' | 'prompt' | 'data' | 'noise' | 'note';

export interface MqttSummary {
  /** Packet type in capitals: CONNECT, PUBLISH, SUBACK… */
  type: string;
  topic?: string;
  qos?: number;
  packetId?: number;
  retain?: boolean;
  clientId?: string;
  /** CONNACK/SUBACK/PUBACK… reason or return code(s). */
  code?: number | number[];
  payloadBytes?: number;
  /** First bytes of the payload, printable (control bytes escaped). */
  payloadPreview?: string;
  /** mosquitto -d style one-liner. */
  text: string;
}

export interface SocketData {
  /** Link (connection) number as the module names it; '0' when the firmware has only one. */
  link: string;
  /** send: host → module payload; push: module pushed (+IPD); read: host read it (CIPRXGET); transparent: data mode. */
  via: 'send' | 'push' | 'read' | 'transparent';
  bytes: number;
  /** The header that announced it (`+IPD,0,5:`), when there was one. */
  header?: string;
  /** Shorter than announced (the capture ends mid-block). */
  truncated?: boolean;
}

/** One thing that happened on the line: a command, its answer, a URC, data, an MQTT packet, a note. */
export interface TimelineEntry {
  /** Position in the timeline (0-based). */
  index: number;
  /** Index of the trace event it came from (evidence for findings). */
  event: number;
  /** Line number in the source file, when the source had lines. */
  line?: number;
  /** ms since the start of the capture. */
  t?: number;
  /** Who said it. An inferred command (seen only in the module's output) is still 'tx'. */
  dir: 'tx' | 'rx' | 'note';
  kind: EntryKind;
  /** Printable text (control bytes escaped for data). */
  text: string;
  /** What a code or line means, from the profile's tables. */
  meaning?: string;
  /** The host command this belongs to (in flight when it happened). */
  command?: string;
  /** For a final: ms from the command to its final result. */
  rttMs?: number;
  /** For a final: how the command ended. */
  outcome?: 'ok' | 'error' | 'connect' | 'no-carrier';
  /** Code and table behind the meaning (`+CME ERROR: 10` → code 10, table cme). */
  code?: string;
  table?: string;
  /** URC details: profile name and the event it stands for (registration, socket-closed…). */
  urc?: { name: string; event: string; groups: Record<string, string> };
  busy?: 'processing' | 'sending';
  /** The line is a boot banner / ROM text: the module (re)started. */
  reboot?: boolean;
  /** Direction or kind was inferred (transcripts without markers, merged dumps). */
  inferred?: boolean;
  socket?: SocketData;
  mqtt?: MqttSummary[];
  /** Structured fields of a note. */
  fields?: Record<string, unknown>;
  /** How a pasted log's line was read: traffic, code, debug (a library's print) or prose; and the debug reader that took it. */
  read?: 'traffic' | 'code' | 'debug' | 'prose';
  reader?: string;
}
