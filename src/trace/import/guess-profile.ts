import type { ProfileGuess } from './types.js';

/** Words only one family says; each hit is a vote. */
const SIM7600_WORDS = /\+CPIN|\+CREG|\+CGREG|\+CEREG|\+CSQ|NETOPEN|CIPOPEN|CIPRXGET|\bRDY\b|SMS DONE|PB DONE|CMQTT|\+CME ERROR|\+COPS|CGDCONT|SIMCOM|\+CGATT|\+CPSI|CIPCLOSE|\+IPD\d|\*ATREADY|SIM800|SIM7000|A76\d\d|\+CMEE/gi;
const ESP_AT_WORDS = /CWJAP|CWMODE|CIPSTART|CIPMUX|\+IPD,|\bready\b|WIFI (?:CONNECTED|GOT IP|DISCONNECT)|busy [ps]\.\.\.|SEND OK|SEND FAIL|CIPSTATUS|AT version:|ets Jan|MQTTCONN|CIPRECV|CWLAP|CIFSR|CIPSERVER|ESP8266|ESP32|esp> /gi;

/**
 * Which profile a capture most likely belongs to, from the words in its first part. Each text is
 * tried in turn (the traffic first, then the whole file with its prose) until one has a word.
 */
export function guessProfile(...texts: (Buffer | string)[]): ProfileGuess {
  for (const head of texts) {
    const text = typeof head === 'string' ? head : head.toString('latin1');
    const sim = text.match(SIM7600_WORDS)?.length ?? 0;
    const esp = text.match(ESP_AT_WORDS)?.length ?? 0;
    if (sim !== esp) return sim > esp ? 'sim7600' : 'esp-at';
  }
  return 'esp-at';
}
