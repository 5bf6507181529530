import type { Readable } from 'node:stream';
import { looksLikeCommand } from '../../at/classify.js';
import type { TraceEvent } from '../events.js';
import { readByteLines, withoutCr } from './byte-lines.js';
import { finalThenWords, isTraffic, readLine, saysNoAnswer, type LineRead } from './line-kind.js';
import { DebugReaders, type ReaderOut } from './readers/index.js';
import { labelledTraffic } from './readers/host-prefix.js';
import { hasLineEndMarkers, markedDirection, pythonBytes, replaceLineEndMarkers, SENT_WORDS, splitMarkedPieces } from './transcript-markers.js';
import { RelativeClock, stripTimestamp } from './transcript-time.js';
import { shippedPayloadCommands } from '../../profile/send-commands.js';

export interface TranscriptOptions {
  /** The file has Markdown code fences (seen in its first part): outside them, only a line that reads as traffic is traffic. */
  fenced?: boolean;
  /** `<-` / `->` mean sent / received in this file (the opposite of the usual arrows), seen in its first part. */
  arrowsFlipped?: boolean;
  /** The file holds the prints of Waveshare's Python `send_at` helper (`AT+CMGF=1 back:\t…`), seen in its first part. */
  sendAt?: boolean;
}

/** Readers whose library logs every command and answer: with them, other unmarked lines are the program's prints. */
const FRAMING_READERS = new Set(['esp-idf', 'esphome', 'mbed-trace', 'zephyr', 'mbed-athandler', 'send-at']);

/** Markers of a library's debug line: outside a fence these are still the log. */
const DEBUG_HINT = /^(?:>\s)?(?:[EWIDV] \(\d+\) |\[[DIWEVC]\]\[|\[(?:INFO|DBG|WARN|ERR|TRACE)\s*\]|(?:\[[\d:.,]+\]\s*)?(?:\x1b\[[\d;]*m|\\0?33\[[\d;]*m)?<(?:dbg|inf|wrn|err)> |(?:\[\d+\]\s*)?### Unhandled|AT[<>?!](?: |$)|AT\(Timeout\))/;

/** Lines a GitHub issue export puts around the log: `owner/repo · issue #1 · open`, `user · comment · date`. */
const ISSUE_META = /^\S.{0,80} \u00b7 (?:issue|pull request|description|comment|answer)\b/;
const FENCE = /^\s*(?:```+|~~~+)\s*([\w+-]*)\s*$/;
/**
 * The "Expected result" / "Expected behaviour" section of an issue template (TinyGSM's, MicroPython's,
 * ESP-IDF's and esp-at's issue forms): what the reporter wanted to see, not what the module sent. It
 * runs to the next heading (`### Actual result`, `**Actual result**`, a bare `Actual Results`).
 */
const EXPECTED_HEAD = /^\s*(?:#{1,6}\s*|\*\*)?\s*expected\s+(?:results?|behaviou?rs?|outputs?|responses?)\s*(?:\*\*)?\s*:?\s*(?:\*\*)?\s*$/i;
const SECTION_HEAD = /^\s*#{1,6}\s+\S|^\s*\*\*[^*]+\*\*\s*:?\s*$|^\s*(?:actual|observed|current)\s+(?:results?|behaviou?rs?|outputs?)\s*:?\s*$/i;
const INLINE_FENCE = /^\s*```+\s*(.*?)\s*```+\s*$/;
/**
 * After a '>' prompt the host sends payload; these commands ask for one: any send command, and
 * every command a shipped profile marks as taking a payload after the prompt (`prompt` templates:
 * an MQTT topic, a certificate, an HTTP body).
 */
const PAYLOAD_COMMANDS = { test: (command: string): boolean => /SEND/i.test(command) || isPayloadCommand(command) };

function isPayloadCommand(command: string): boolean {
  const text = command.trim().toUpperCase();
  return shippedPayloadCommands().some((c) => text.startsWith(c.name));
}

/** An echo arrives within a few character times; 100 ms covers slow rates and logger jitter. */
const ECHO_WITHIN_MS = 100;

/**
 * A serial log as people paste it: one line per line of text, directions marked in one of many
 * ways or not at all. Unmarked lines are inferred: a line that is an AT command is the host's,
 * unless it repeats the command just sent (the module's echo); everything else is the module's.
 * Each line becomes one event (the decoder ends a line at each event). Text outside Markdown
 * fences, issue headers and library debug prints become notes, so they never read as traffic.
 */
export async function* importTranscript(stream: Readable, options: TranscriptOptions = {}): AsyncGenerator<TraceEvent> {
  const clock = new RelativeClock();
  let lineNo = 0;
  let inFence = false;
  let quoteRun = false;
  /** Inside an issue template's "Expected result" section. */
  let expectedSection = false;
  /** The host's last command, while no module line has followed it (an equal line is its echo). */
  let awaitingEcho: string | undefined;
  /** When that command was sent, if the transcript has times. */
  let sentAt: number | undefined;
  let lastCommand = '';
  let afterPrompt = false;
  const readers = new DebugReaders({ sendAt: options.sendAt ?? false });
  /** A reader that carries all the traffic of this file (its library logs every command and answer). */
  // Waveshare's send_at prints the module's replies and the script's own lines: from the start, a line
  // that does not read as traffic is the script's.
  let framedBy: string | undefined = options.sendAt ? 'send-at' : undefined;

  let trafficSeen = false;
  const event = (dir: TraceEvent['dir'], data: Buffer | string, t: number | undefined, fields?: Record<string, unknown>): TraceEvent => {
    if (dir !== 'note') trafficSeen = true;
    const e: TraceEvent = { t, dir, data: typeof data === 'string' ? Buffer.from(data, dir === 'note' ? 'utf8' : 'latin1') : data, line: lineNo };
    if (fields) e.fields = fields;
    return e;
  };
  /** A line that is not traffic: kept as a note saying how it was read. */
  const aside = (raw: Buffer | string, t: number | undefined, read: LineRead, extra: Record<string, unknown> = {}): TraceEvent => {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    return event('note', raw, t, { read, ...extra, ...(saysNoAnswer(text) ? { noAnswer: true } : {}) });
  };
  /** What a debug reader found in a line. */
  const fromReader = function* (reader: string, out: ReaderOut[], t: number | undefined): Generator<TraceEvent> {
    for (const o of out) {
      if (o.dir === 'note') {
        yield aside(Buffer.from(o.text, 'latin1'), t, 'debug', { reader, ...(o.noAnswer ? { noAnswer: true } : {}), ...(o.silent ? { silent: true } : {}) });
        continue;
      }
      const cmd = o.text.trim();
      if (o.dir === 'tx' && looksLikeCommand(cmd)) {
        awaitingEcho = cmd;
        lastCommand = cmd;
        sentAt = t;
      } else if (o.dir === 'rx') awaitingEcho = undefined;
      yield event(o.dir, `${o.text}\r\n`, t, { read: 'debug', reader });
    }
  };

  /** One line of the paste (or one piece of a line that lost its breaks): what it holds, as events. */
  const readOne = function* (raw: Buffer): Generator<TraceEvent> {
    let text = raw.toString('latin1');
    if (lineNo <= 2 && /^(?:source|what): /.test(text)) {
      yield event('note', withoutCr(raw), undefined);
      return;
    }
    if (/^\s*$/.test(text)) return;
    const inline = INLINE_FENCE.exec(text);
    if (inline && inline[1]) text = inline[1];
    else if (FENCE.test(text)) {
      inFence = !inFence;
      quoteRun = false;
      // A new code block after traffic is another capture pasted into the same post: start-up
      // lines in it are a power-on, not a restart in the middle of the first one.
      if (inFence && trafficSeen) yield event('note', 'a new code block: another capture', undefined, { read: 'prose', newCapture: true });
      return;
    }
    // A log quoted with Markdown '>' outside the fences is still a log.
    const quotedLog = /^>(?: |$)/.test(text) && (quoteRun || looksQuoted(text.slice(2)));
    if (!quotedLog && quoteRun && options.fenced && !inFence) quoteRun = false;
    if (ISSUE_META.test(Buffer.from(text, 'latin1').toString('utf8'))) {
      // Another person's post starts: nothing after it answers a command before it.
      awaitingEcho = undefined;
      expectedSection = false;
      yield aside(withoutCr(raw), undefined, 'prose', { newPost: true });
      return;
    }
    if (!inFence && EXPECTED_HEAD.test(text)) {
      expectedSection = true;
      yield aside(withoutCr(raw), undefined, 'prose', { expected: true });
      return;
    }
    if (expectedSection && !inFence && SECTION_HEAD.test(text)) {
      expectedSection = false;
      yield aside(withoutCr(raw), undefined, 'prose');
      return;
    }
    if (expectedSection) {
      yield aside(withoutCr(raw), undefined, 'prose', { expected: true });
      return;
    }
    // Outside the fences of a fenced post, a line is the log only when its content says so.
    if (options.fenced && !inFence && !inline && !quotedLog) {
      const probe = stripTimestamp(text.replace(/^`+|`+$/g, '')).rest.trim();
      const marked = markedDirection(probe);
      // A host's label before traffic (`Risposta ricevuta: AT+CPIN?`) is the log too.
      const labelled = marked === undefined && labelledTraffic(probe) !== undefined;
      const traffic = isTraffic(probe) || DEBUG_HINT.test(probe) || (marked !== undefined && marked.dir !== 'note' && isTraffic(marked.rest)) || labelled;
      if (!traffic || (!labelled && readLine(probe) === 'prose')) {
        yield aside(withoutCr(raw), undefined, readLine(probe) ?? 'prose');
        return;
      }
    }
    // Inline-code backticks around a pasted line.
    text = text.replace(/^`+|`+$/g, '');

    const stamped = stripTimestamp(text);
    const t = clock.at(stamped.ms);
    // Whole-second stamps cannot tell an echo from a retry a second later: allow one step.
    const echoWithin = Math.max(ECHO_WITHIN_MS, stamped.resolutionMs);
    text = stamped.rest;

    // A library's debug line: its reader says what it holds.
    // (A Markdown quote around it is taken off: `> D (910) esp-modem: …`.)
    const byReader = readers.read(text) ?? (/^>(?: |$)/.test(text) ? readers.read(text.slice(2)) : undefined);
    if (byReader) {
      if (FRAMING_READERS.has(byReader.reader) && byReader.out.some((o) => o.dir !== 'note')) framedBy = byReader.reader;
      yield* fromReader(byReader.reader, byReader.out, t);
      return;
    }

    const py = pythonBytes(text);
    if (py) {
      const dir = SENT_WORDS.test(py.before) || py.before.trim() === '' ? 'tx' : 'rx';
      if (dir === 'tx') {
        const cmd = py.bytes.toString('latin1').trim();
        if (looksLikeCommand(cmd)) {
          awaitingEcho = cmd;
          lastCommand = cmd;
        }
      } else awaitingEcho = undefined;
      yield event(dir, py.bytes, t);
      return;
    }

    // A Markdown quote (`> AT+CGREG?`) around a log, unless it is the module's '>' prompt.
    const quoted = /^> ?(.*)$/.exec(text);
    let quoteStripped = false;
    if (quoted && (quoteRun ? true : looksQuoted(quoted[1]!))) {
      quoteRun = true;
      quoteStripped = true;
      text = quoted[1]!;
    } else if (!quoted) quoteRun = false;

    let dir: TraceEvent['dir'] | undefined;
    const marked = markedDirection(text);
    if (marked) {
      dir = marked.dir;
      text = marked.rest;
      if (options.arrowsFlipped && dir !== 'note' && /^(?:->|<-)/.test(marked.marker)) dir = dir === 'tx' ? 'rx' : 'tx';
      // Unexpected lines in parentheses, a time in ms after the line: `-> (+CPIN: READY)`, `OK (15320)`.
      text = text.replace(/\s+\(\d+\)$/, '');
      const paren = /^\((.*)\)$/.exec(text.trim());
      if (paren && isTraffic(paren[1]!)) text = paren[1]!;
      if (dir !== 'note' && /^[\d:.\s]*$/.test(text) && text.trim() !== '') dir = 'note';
      // `<--- SEND OK Publishing GPS data: Mydata`: the module's final, then the host's own print.
      const trailed = dir === 'rx' ? finalThenWords(text) : undefined;
      if (trailed) {
        awaitingEcho = undefined;
        yield event('rx', `${trailed.final}\r\n`, t);
        yield aside(Buffer.from(trailed.rest, 'latin1'), t, 'debug');
        return;
      }
    }
    if (dir === 'note') {
      yield aside(Buffer.from(text, 'latin1'), t, 'debug');
      return;
    }
    if (dir === undefined) {
      const labelled = readers.readLabelled(text);
      if (labelled) {
        yield* fromReader(labelled.reader, labelled.out, t);
        return;
      }
      // Where a library logs every exchange itself, its program's other prints are not traffic.
      if (framedBy !== undefined && !isTraffic(stripComment(text.trim()))) {
        yield aside(Buffer.from(text, 'latin1'), t, 'debug', { reader: framedBy });
        return;
      }
      // The host program saying the module is silent (`Trying baud rate 9600`, `Cannot send AT command`).
      if (saysNoAnswer(text)) {
        yield aside(Buffer.from(text, 'latin1'), t, 'debug');
        return;
      }
      // Source code and a person's words are not traffic, whatever AT text they hold.
      const read = afterPrompt ? undefined : readLine(stripComment(text.trim()));
      if (read === 'code' || read === 'prose') {
        yield aside(Buffer.from(text, 'latin1'), t, read);
        return;
      }
    }

    const explicitEnds = hasLineEndMarkers(text);
    if (explicitEnds) text = replaceLineEndMarkers(text);
    const body = explicitEnds ? text.replace(/[\r\n]+$/, '') : text;
    const command = stripComment(body.trim());

    // Prompt and payload on one line: `>MQTTGsmClientTest`, `> 1`, `>-----BEGIN CERTIFICATE-----`.
    const promptPayload = /^>\s?(\S.*)$/.exec(body);
    if (dir !== 'tx' && promptPayload && PAYLOAD_COMMANDS.test(lastCommand) && !quoteStripped) {
      awaitingEcho = undefined;
      afterPrompt = false;
      yield event('rx', '> ', t);
      yield event('tx', promptPayload[1]!, t);
      return;
    }
    // The payload typed on the line after a bare '>' prompt.
    if (dir === undefined && afterPrompt && body.trim() !== '' && !looksLikeCommand(command)) {
      afterPrompt = false;
      yield event('tx', body, t);
      return;
    }
    afterPrompt = PAYLOAD_COMMANDS.test(lastCommand) && /^>\s*$/.test(body);
    // `+++` typed to leave transparent mode, often with a comment after it.
    if (dir !== 'rx' && /^\+\+\+(?:\s|$|AT)/i.test(body)) {
      yield event('tx', '+++', t);
      // `+++AT`: the escape typed straight before the next command.
      const after = body.slice(3).trim();
      if (looksLikeCommand(after)) {
        awaitingEcho = after;
        lastCommand = after;
        sentAt = t;
        yield event('tx', `${after}\r\n`, t);
      }
      return;
    }

    // A copy that lost its line breaks: `AT+CWMODE? +CWMODE:1 OK` is a command and its answers.
    const flat = dir === undefined && !explicitEnds ? splitFlattened(command) : undefined;
    if (flat) {
      // The module's flattened echo of the command just sent, or the host's command and its answers.
      const echo = awaitingEcho?.toUpperCase() === flat.command.toUpperCase() && (t === undefined || sentAt === undefined || t - sentAt <= echoWithin);
      lastCommand = flat.command;
      awaitingEcho = undefined;
      yield event(echo ? 'rx' : 'tx', `${flat.command}\r\n`, t);
      for (const answer of flat.answers) yield event('rx', `${answer}\r\n`, t);
      return;
    }
    if (dir === undefined) {
      if (looksLikeCommand(command)) {
        // With times, an echo comes back at once; the same line much later is the host trying again.
        const prompt = t === undefined || sentAt === undefined || t - sentAt <= echoWithin;
        dir = awaitingEcho !== undefined && awaitingEcho.toUpperCase() === command.toUpperCase() && prompt ? 'rx' : 'tx';
      } else dir = 'rx';
    }
    if (dir === 'tx') {
      if (looksLikeCommand(command)) {
        awaitingEcho = command;
        sentAt = t;
        lastCommand = command;
        yield event('tx', explicitEnds ? text.replace(body, command) : `${command}\r\n`, t);
        // A person's note after the command: what it answered (`returns +CIPSTATUS:0,…`), or that
        // nothing came (`- hangs with no > data prompt`); kept as a note either way.
        const note = noteAfter(body.trim(), command);
        if (note) {
          const answer = DESCRIBED_ANSWER.exec(note)?.[1]?.trim();
          if (answer && isTraffic(answer) && !SAYS_SILENT.test(answer)) {
            awaitingEcho = undefined;
            yield event('rx', `${answer}\r\n`, t);
          } else yield aside(Buffer.from(note, 'latin1'), t, 'prose', SAYS_SILENT.test(note) ? { silent: true } : {});
        }
      } else yield event('tx', explicitEnds ? text : body, t);
      return;
    }
    awaitingEcho = undefined;
    yield event('rx', explicitEnds ? text : `${body}\r\n`, t);
  };

  for await (const whole of readByteLines(stream)) {
    lineNo++;
    const line = withoutCr(whole);
    for (const piece of splitMarkedPieces(line.toString('latin1'))) yield* readOne(Buffer.from(piece, 'latin1'));
  }
  yield* fromReader('end', readers.flush(), undefined);
}

/** Where an answer starts inside a flattened line: a final, a URC or info line, a boot line. */
const FLAT_ANSWER = /^(?:OK|ERROR|FAIL|SEND (?:OK|FAIL)|NO CARRIER|CONNECT|CLOSED|busy [ps]\.\.\.|WIFI (?:CONNECTED|DISCONNECT|GOT IP)|\+[A-Z][A-Z0-9]*:|ets [A-Z][a-z]{2} )(?=\s|$|[^A-Za-z])/;

/**
 * `AT+CWJAP="ap","pw" WIFI CONNECTED +CWJAP:1 FAIL` → the command and each answer line, when a
 * command is followed on the same line by something that can only be the module's answer.
 * Splits at spaces outside double quotes; undefined when the line is anything else.
 */
export function splitFlattened(line: string): { command: string; answers: string[] } | undefined {
  if (!/^AT/i.test(line)) return undefined;
  const cuts: number[] = [];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(c) && !/\s/.test(line[i + 1] ?? ' ') && FLAT_ANSWER.test(line.slice(i + 1))) cuts.push(i);
  }
  if (cuts.length === 0) return undefined;
  const command = line.slice(0, cuts[0]).trim();
  if (!looksLikeCommand(command) || /\s/.test(command.replace(/"[^"]*"/g, ''))) return undefined;
  const answers = cuts.map((at, k) => line.slice(at, cuts[k + 1] ?? line.length).trim()).filter((a) => a !== '');
  return { command, answers };
}

/** `> AT+CGREG?`, `> +CGREG: 0,5`, `> OK`: quoted log lines, not a prompt followed by payload. */
function looksQuoted(rest: string): boolean {
  const r = rest.trim();
  if (r === '') return false;
  if (looksLikeCommand(r) || /^(?:OK|ERROR|\+[A-Z]+:|AT[<>=] |\[)/.test(r)) return true;
  // A quoted line with its own direction marker (`> ---> AT`, `> <--- b'OK'`): the log, quoted.
  const marked = markedDirection(r);
  return marked !== undefined && marked.dir !== 'note' && marked.marker !== '' && (isTraffic(marked.rest) || pythonBytes(marked.rest) !== undefined);
}

/**
 * A person saying a command got nothing back: `hangs`, `no response`, `no > prompt`, `times out`,
 * `returns nothing`, `never answers`, `nothing comes back`.
 */
const SAYS_SILENT = /\b(?:hangs?|hung|freez(?:es|ing)|(?:gets?|is|was) stuck|times? out|timed out|timeout|(?:returns?|gives?|prints?|shows?|gets?) nothing|nothing (?:comes? back|came back|(?:is )?returned|happens)|never (?:returns?|answers?|responds?|replies)|(?:does(?:n't| not)|did(?:n't| not)) (?:respond|answer|reply|return)|no (?:response|answer|reply|output|(?:>\s*|data |'>' |"\>" )?prompt)(?:\b|$))/i;
/** `returns X`, `gives X`, `responds with X`, `-> X`: what a person says the command answered. */
const DESCRIBED_ANSWER = /^(?:returns?|gives?|responds?(?: with)?|repl(?:y|ies)(?: with)?|answers?(?: with)?|->|=>)\s+(\S.*)$/i;
/** Words after a command that are a person's note, with no separator: `AT+CIPSEND=48 hangs`, `AT+CIPSTATUS returns +CIPSTATUS:…`. */
const BARE_NOTE = new RegExp(`\\s+(?=${SAYS_SILENT.source.replace(/^\\b/, '')}|(?:returns?|gives?|responds? with|replies(?: with)?|answers? with)\\s+\\S)`, 'i');

/** What `stripComment` took off after the command: the note, without its separator. */
function noteAfter(line: string, command: string): string | undefined {
  if (!line.startsWith(command) || line.length === command.length) return undefined;
  const note = line.slice(command.length).replace(/^\s*(?:\/\/|-{1,2}(?=\s))?\s*/, '').replace(/^\((.*)\)$/, '$1').trim();
  return note === '' ? undefined : note;
}

/** `AT+CSQ //查询信号` and `AT+CIPOPEN=…  设置 TCP`: a comment after a typed command. */
function stripComment(text: string): string {
  if (!/^AT/i.test(text)) return text;
  const bare = BARE_NOTE.exec(text);
  // Only after a whole command (no blank outside quotes before the note).
  if (bare && !/\s/.test(text.slice(0, bare.index).replace(/"[^"]*"/g, '')) && looksLikeCommand(text.slice(0, bare.index))) text = text.slice(0, bare.index);
  return text
    // `AT+CIPSEND=48 (nothing comes back)`: a person's words in parentheses after it.
    .replace(/\s+\([A-Za-z][^()]*\)\s*$/, '')
    .replace(/\s*\/\/.*$/, '')
    // `AT+CIPSEND=48 - hangs with no > prompt`: a person's note after the command.
    .replace(/\s+-{1,2}\s+[A-Za-z(].*$/, '')
    .replace(/\s{2,}[^\x00-\x7f].*$/, '')
    .replace(/\s+[^\x00-\x7f].*$/, (m) => (/^\s+[\u00c0-\u00ff]/.test(m) ? '' : m))
    .trim();
}
