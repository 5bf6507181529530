/**
 * The ways people mark who said what in a pasted serial log, as seen in issues and forums.
 * Patterns run on the latin1 view of the line's bytes, so offsets are byte offsets and a
 * UTF-8 marker such as » is matched by its bytes.
 */
const u = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

export interface MarkedLine {
  dir: 'tx' | 'rx' | 'note';
  /** The part of the line after the marker (latin1 view). */
  rest: string;
  /** The marker itself (empty for library notes). */
  marker: string;
}

/** A prefix whose meaning is fixed: `>> ` host, `<< ` module, `AT> ` (mbed ATParser) host… */
const PREFIXES: { re: RegExp; dir: 'tx' | 'rx' | 'note' }[] = [
  // `---> cmd` / `<--- answer`: Adafruit's FONA and ESP_ATcontrol debug prints.
  { re: /^(?:>>|--->|-->|->|=>)\s?/, dir: 'tx' },
  { re: /^(?:<<|<---|<--|<-|<=)\s?/, dir: 'rx' },
  { re: /^AT>(?: |$)/, dir: 'tx' },
  { re: /^AT[<=](?: |$)/, dir: 'rx' },
  { re: new RegExp(`^${u('»')}\\s?`), dir: 'tx' },
  { re: new RegExp(`^${u('«')}\\s?`), dir: 'rx' },
  // SSCOM-style serial assistants: 发→◇ (sent) / 收←◆ (received).
  { re: new RegExp(`^(?:${u('发→◇')}|${u('发→')}|${u('发送')}(?::|${u('：')})?|SEND\\s*[:>]|SENT\\s*[:>]|TX\\s*[:>]|Tx\\s*[:>]|Send\\s*[:>]|Sent\\s*[:>])\\s?`, 'i'), dir: 'tx' },
  { re: new RegExp(`^(?:${u('收←◆')}|${u('收←')}|${u('接收')}(?::|${u('：')})?|RECV\\s*[:<>]|RCVD\\s*[:<>]|RECEIVED?\\s*[:<>]|RX\\s*[:<>]|Rx\\s*[:<>]|Recv\\s*:)\\s?`, 'i'), dir: 'rx' },
];

/** Tags in brackets before a TX:/RX: marker: `[serial (WiFi)] TX: …`. */
const TAGS = /^(?:\[[^\]]{1,40}\]\s*)+/;

/** WiFiEspAT debug output: `esp> AT+CWJAP=… ...sent`, `esp> OK ...matched`, `esp INFO: …`. */
const ESP_DEBUG = /(?:^|[^A-Za-z])esp> (.*?)(?: \.\.\.(\w+))?\s*$/;
const LIBRARY_NOTE = /^(?:esp (?:INFO|ERROR|WARN|DEBUG)\b|### |\[\d+\] ###|\/\/|#(?:\s|$))/;

export function markedDirection(line: string): MarkedLine | undefined {
  const esp = ESP_DEBUG.exec(line);
  if (esp) {
    const text = esp[1]!;
    const verdict = esp[2];
    // `esp> ?` is the library printing an unexpected byte; not traffic.
    if (verdict === undefined && (text === '?' || text === '')) return { dir: 'note', rest: line, marker: '' };
    return { dir: verdict === 'sent' ? 'tx' : 'rx', rest: text, marker: 'esp>' };
  }
  if (LIBRARY_NOTE.test(line)) return { dir: 'note', rest: line, marker: '' };
  // FONA prints a tab before its arrows (`\t---> AT`): leading blanks are no part of the marker.
  for (const attempt of [line, line.replace(TAGS, ''), line.trimStart()]) {
    for (const p of PREFIXES) {
      const m = p.re.exec(attempt);
      if (m) return { dir: p.dir, rest: attempt.slice(m[0].length), marker: m[0].trim() };
    }
  }
  return undefined;
}

/** Explicit line-end markers: `(\r)(\n)`, `<\r><\n>`, `<CR><LF>`, `[CR][LF]`. */
const LINE_END_MARKER = /\(\\r\)|\(\\n\)|<\\r>|<\\n>|<CR>|<LF>|\[CR\]|\[LF\]/g;

export function hasLineEndMarkers(text: string): boolean {
  LINE_END_MARKER.lastIndex = 0;
  return LINE_END_MARKER.test(text);
}

export function replaceLineEndMarkers(text: string): string {
  return text.replace(LINE_END_MARKER, (m) => (/r|CR/.test(m) ? '\r' : '\n'));
}

/** A Python bytes literal as printed by pyserial scripts: `b'AT\r\n'`. */
const PY_BYTES = /\bb'((?:[^'\\]|\\.)*)'|\bb"((?:[^"\\]|\\.)*)"/;

export function pythonBytes(line: string): { before: string; bytes: Buffer } | undefined {
  const m = PY_BYTES.exec(line);
  if (!m) return undefined;
  return { before: line.slice(0, m.index), bytes: Buffer.from(unescapeC(m[1] ?? m[2] ?? ''), 'latin1') };
}

/**
 * `\r`, `\n`, `\t`, `\0`, `\"`, `\'`, `\\`, `\xHH` back to the bytes (latin1 text), as Python's bytes
 * repr and C printers write them; any other backslash stays as it is (Python's own rule).
 */
export function unescapeC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|[rnt0"'\\])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return ({ r: '\r', n: '\n', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}

export const SENT_WORDS = new RegExp(`${u('发送')}|send|sent|tx|write`, 'i');

/**
 * Whether a file's `<-` / `->` arrows mean sent / received (WioLTEforArduino, some sketches), the
 * opposite of the usual reading: the `->` lines are mostly answers and the `<-` lines commands.
 */
export function arrowsFlipped(head: string): boolean {
  let usual = 0;
  let flipped = 0;
  for (const line of head.split('\n').slice(0, 2000)) {
    const m = /^\s*(->|<-)\s?(.*?)\s*$/.exec(line);
    if (!m) continue;
    const command = /^AT/i.test(m[2]!);
    if ((m[1] === '->') === command) usual++;
    else flipped++;
  }
  return flipped > usual * 2 && flipped >= 3;
}

/** A long arrow inside a line, after a space: `--->` / `<---` (Adafruit FONA, ESP_ATcontrol) and `-->` / `<--`. */
const INNER_ARROW = /(?<=\S)\s+(?=(?:--->|<---|-->|<--)\s)/g;

/**
 * A paste that lost its line breaks joins the debug lines of a library that marks each line with a
 * long arrow (`\t---> ` sent, `\t<--- ` received: Adafruit's FONA library prints one per line):
 * `---> AT+CIPCLOSE <--- CLOSE OK`, or the '>' prompt then the payload sent, `> ---> 84 84 3`. Each
 * arrow starts a line again. Only when the line starts with such an arrow or with traffic, and every
 * piece after an arrow holds something: otherwise the line is returned whole.
 */
export function splitMarkedPieces(line: string): string[] {
  INNER_ARROW.lastIndex = 0;
  if (!INNER_ARROW.test(line)) return [line];
  const pieces = line.split(INNER_ARROW);
  const first = pieces[0]!.trim();
  const rests = pieces.slice(1).map((p) => p.replace(/^(?:--->|<---|-->|<--)/, '').trim());
  if (rests.some((r) => r === '')) return [line];
  if (/^(?:--->|<---|-->|<--)(?:\s|$)/.test(first)) return pieces;
  // `> ---> 84 84 3`: the prompt, then what the host sent after it. (`> ---> AT+CSQ` is a Markdown
  // quote of a sent line: a command is never the payload after a prompt.)
  if (first === '>' && pieces.length === 2 && /^\s*--?->/.test(pieces[1]!) && !/^AT/i.test(rests[0]!)) return pieces;
  return [line];
}
