import { looksLikeCommand } from '../../at/classify.js';

/**
 * How a line of a pasted log was read: the module's or host's AT traffic, a program's source code
 * (string literals holding AT commands are not traffic), a library's debug print, or a person's
 * words. Decided by content, line by line; Markdown fences are only a hint for what stays unclear.
 */
export type LineRead = 'traffic' | 'code' | 'debug' | 'prose';

/** Final result words of V.250 / 27.007 and the AT firmwares' common ones. */
const FINAL = /^(?:OK|ERROR|FAIL|NO CARRIER|NO DIALTONE|NO ANSWER|BUSY|CONNECT(?: \d+)?|SEND OK|SEND FAIL|\+CM[ES] ERROR: ?.+|ERR CODE:0x[0-9a-f]+)$/i;
/** `+CREG: 0,1`, `*ATREADY: 1`, `^SYSSTART`, `$GPRMC`, `+IPD,4:`: an information or URC line. */
const PREFIXED = /^[+*^$#%][A-Z][A-Z0-9_]{1,15}(?::|,\d|\d|$)/;
/** Short upper-case lines: `RDY`, `SMS DONE`, `WIFI GOT IP`, `CLOSED`, `0,CONNECT`, `DOWNLOAD`. */
const CAPS = /^(?:\d,\s?)?[A-Z][A-Z0-9_]{1,15}(?: [A-Z0-9_]{1,15}){0,3}$/;
/** ESP-AT and 0.9-era lower-case answers, boot text, prompts and bare values. */
const MODULE_WORDS = /^(?:ready|busy [a-z]\.{3}.*|no change|link is not|Recv \d+ bytes|>\s?|ets [A-Z][a-z]{2} .*|rst cause:.*|load 0x.*|AT version:.*|SDK version:.*|Bin version.*|compile time.*|[\d.:,"-]*\d[\d.:,"-]*|\d+,(?:CONNECT|CLOSED)(?: FAIL)?|STATUS:\d+)$/;

/** Module or host traffic by its syntax alone. */
export function isTraffic(text: string): boolean {
  const t = text.trim();
  if (t === '') return false;
  return looksLikeCommand(t) || FINAL.test(t) || PREFIXED.test(t) || CAPS.test(t) || MODULE_WORDS.test(t);
}

/** Where traffic a label introduces starts: after `: `, `=> `, `>> `, `] `, `('` and the like. */
const LABEL_END = /[:>\]\[('"|=]\s*(?=\S)|\s+(?=\S)/g;

/**
 * The line is, or ends in, AT traffic: the whole line reads as traffic, or what follows a label
 * does (`[GSM]:  => AT+CREG?`, `bgxx: << +QMTOPEN: 0,-1`, `expect (OK)`, `Lines: ['+CREG: 0,0']`).
 * After a plain space only a command or a `+NAME:` line counts (`… 换一行 +IPD,0,3:123`), so a
 * sentence ending in "OK" is not traffic. `labelOnly`: a line read as prose counts only by what a
 * label's punctuation introduces (`…][CELL]: AT TX ( 2): AT`), never by a word in a sentence.
 * Decides whether a capture holds any AT traffic at all.
 */
export function carriesTraffic(text: string, labelOnly = false): boolean {
  const t = text.trim();
  if (t === '') return false;
  if (!labelOnly && isTraffic(t)) return true;
  for (const m of t.matchAll(LABEL_END)) {
    const punctuated = /\S/.test(m[0]);
    if (labelOnly && !punctuated) continue;
    const rest = t.slice(m.index + m[0].length).replace(/["'`)\]]+[,.;]?$/, '').trim();
    if (looksLikeCommand(rest) || PREFIXED.test(rest) || (punctuated && FINAL.test(rest))) return true;
  }
  return false;
}

/** Source code: statements, declarations, calls with string literals, comments, preprocessor lines. */
const CODE = [
  /^\s*#\s*(?:include|define|ifn?def|endif|if|else|pragma)\b/,
  /^\s*(?:\/\/|\/\*|\*\/|\* )/,
  /;\s*(?:\/\/.*)?$/,
  /^\s*[{}]\s*$|\)\s*\{\s*$|^\s*\}\s*(?:else\b.*)?$/,
  /^\s*(?:import|from\s+\S+\s+import|def|class|return|void|int|char|bool|uint\d+_t|const|let|var|function|static|String|if|elif|else|while|for|try|except|async|await)\b.*[(:={]/,
  /^\s*[A-Za-z_][\w.]*(?:->[\w]+)*\s*\(.*["'].*["'].*\)\s*[;:]?\s*$/,
  /^\s*[A-Za-z_][\w.[\]]*\s*(?:[+\-*/|&]?=)\s*[^=].*$/,
  /^\s*(?:import [\w.]+(?:\s*,\s*[\w.]+)*(?: as \w+)?|from [\w.]+ import [\w*, ]+)\s*$/,
  /^\s*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\s*\(.*\)\s*;?\s*$/,
  /^\s*(?:return|print|pass|raise|break|continue|delay|Serial\w*\.\w+)\b.*[();]\s*$|^\s*(?:return \w+|pass|break|continue)\s*$/,
];

export function isCode(text: string): boolean {
  const t = text.trim();
  if (t === '' || isTraffic(t)) return false;
  return CODE.some((re) => re.test(t));
}

/** Words that carry a sentence: a line with several of them is a person writing. */
const FUNCTION_WORDS = new Set(
  ('the a an is are was were be been am i you he she it we they my your our this that these those to of in on for with and but or not no ' +
    'if when then so do does did have has had can could will would should may might there here what why how which who after before from ' +
    'me us them its just also any all some only than too very as by at into about because still again now yes please thanks hi hello')
    .split(' '),
);
/** Letters of scripts other than Latin (CJK, Cyrillic, Hangul, Arabic…). */
const OTHER_SCRIPT = /[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]/g;

/** A person's words: sentences, Markdown headings and lists, text in another script. */
export function isProse(text: string): boolean {
  const t = text.trim();
  if (t === '' || isTraffic(t)) return false;
  if (/^#{1,6} \S/.test(t) || /^\*\*[^*]+\*\*:?$/.test(t)) return true;
  // A label with nothing after it (`resp:`, `but giving only:`, `Serial monitor view:`): a person's or
  // the host program's words introducing what follows; a module's line after a colon has a value.
  if (/^[A-Za-z][a-z' ]{0,40}:$/.test(t)) return true;
  const other = t.match(OTHER_SCRIPT)?.length ?? 0;
  if (other >= 2 && other * 3 >= t.replace(/\s/g, '').length) return true;
  const words = t.split(/\s+/);
  if (words.length < 4) return false;
  const plain = words.map((w) => w.toLowerCase().replace(/^[("'*_`[]+|[)"'*_`\].,:;!?]+$/g, ''));
  // Contractions count by their first word: `i've`, `don't`, `it's`.
  const small = plain.filter((w) => FUNCTION_WORDS.has(w) || FUNCTION_WORDS.has(w.replace(/n't$|'(?:ve|m|s|re|ll|d)$/, ''))).length;
  const lettered = plain.filter((w) => /^[a-z][a-z'-]*$/.test(w)).length;
  return small >= 2 && lettered * 2 >= words.length;
}

/** What a line without a direction marker holds, by its content. */
export function readLine(text: string): LineRead | undefined {
  if (isTraffic(text)) return 'traffic';
  if (isCode(text)) return 'code';
  if (isProse(text)) return 'prose';
  return undefined;
}

/**
 * A host program's own verdict that the module said nothing (library and sketch prints):
 * `Failed to connect to the modem!`, `esp_modem_sync failed`, `Waiting SYNC`, `Trying baud rate 9600`.
 */
const NO_ANSWER = /^[\W_]*(?:failed to connect to (?:the )?modem|esp_modem_sync failed|(?:modem )?sync failed|waiting sync|trying (?:other )?baud rate|no (?:response|answer|reply)(?: from (?:the )?(?:modem|module))?[.!]*$|(?:modem|module) (?:is )?not respond|(?:modem|module) did not (?:respond|answer)|at (?:command )?time ?out|cannot send at command|timeout waiting for|command timeout|modem not responding|not ack\b)/i;

export function saysNoAnswer(text: string): boolean {
  return text.length <= 160 && NO_ANSWER.test(text.trim());
}

/**
 * A module's final result word and, on the same line, the host program's own print after it:
 * `SEND OK Publishing GPS data: Mydata`, `ERROR Failed to publish data!`. A final result is a whole
 * line on the wire (V.250: the code, then CR LF), so words after it that do not read as traffic
 * are another print that lost its line break. The longest final that leaves such words wins; a
 * final with its own parameter (`CONNECT 115200`) reads as traffic whole and is never split.
 */
export function finalThenWords(text: string): { final: string; rest: string } | undefined {
  const t = text.trim();
  if (isTraffic(t)) return undefined;
  const words = t.split(/\s+/);
  for (let k = Math.min(4, words.length - 1); k >= 1; k--) {
    const final = words.slice(0, k).join(' ');
    const rest = words.slice(k).join(' ');
    if (FINAL.test(final) && /^[A-Za-z]/.test(rest) && !isTraffic(rest) && !/^[A-Z0-9_]+$/.test(words[k]!)) return { final, rest };
  }
  return undefined;
}
