import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { profileForFamily } from '../../src/decode/family.js';
import { loadCapture } from '../../src/doctor/load-capture.js';
import { saysSendFailed } from '../../src/doctor/rules/socket.js';
import { finalThenWords } from '../../src/trace/import/line-kind.js';
import { splitMarkedPieces } from '../../src/trace/import/transcript-markers.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { tempFile } from '../decode/helpers.js';

let n = 0;
/** A pasted log as a file, read the way `doctor --log` reads it: its events and its finding ids. */
async function doctorText(text: string): Promise<{ ids: string[]; events: string[]; severities: Record<string, string> }> {
  const path = tempFile(`field-class-${process.pid}-${n++}.txt`, text);
  const capture = await loadCapture(path);
  const seen: TraceEvent[] = [];
  const events = (async function* () {
    for await (const e of capture.events as AsyncIterable<TraceEvent>) {
      seen.push(e);
      yield e;
    }
  })();
  const a = await analyzeEvents(events, { perLine: capture.perLine, ...(capture.family ? { moduleProfile: profileForFamily(capture.family) } : {}) });
  return {
    ids: a.findings.map((f) => f.id),
    events: seen.filter((e) => e.dir !== 'note' || e.fields?.read === 'debug').map((e) => `${e.dir} ${e.data.toString('latin1').trim()}`),
    severities: Object.fromEntries(a.findings.map((f) => [f.id, f.severity])),
  };
}

/** Real excerpt: botletics/SIM7000-LTE-Shield issue #30 (SIM808, the FONA library's IoT_Example), as pasted. */
const FONA_PUBLISH = [
  'AT+CIPSTART="TCP","test.mosquitto.org","1883" ',
  '<--- OK ',
  '<--- CONNECT OK ',
  '<--- ',
  '> ---> 84 84 3 194 0 15 0 7 68 101 118 105 99 101 49 0 36 97 116 111 ',
  '<--- SEND OK Publishing GPS data: Mydata ',
  '<--- ERROR Failed to publish data! ',
  '---> AT+CIPCLOSE <--- CLOSE OK',
];

describe('a debug print that lost its line breaks (Adafruit FONA: `\\t---> ` sent, `\\t<--- ` received, one per line)', () => {
  it('each long arrow inside a line starts a line again; the prompt before a sent payload is its own line', () => {
    expect(splitMarkedPieces('---> AT+CIPCLOSE <--- CLOSE OK')).toEqual(['---> AT+CIPCLOSE', '<--- CLOSE OK']);
    expect(splitMarkedPieces('> ---> 84 84 3 194')).toEqual(['>', '---> 84 84 3 194']);
    // A Markdown quote of a sent command, a prose arrow, an arrow with nothing after it: one line.
    expect(splitMarkedPieces('> ---> AT+CSQ')).toEqual(['> ---> AT+CSQ']);
    expect(splitMarkedPieces('the reply goes --> here')).toEqual(['the reply goes --> here']);
    expect(splitMarkedPieces('---> AT <--- ')).toEqual(['---> AT <--- ']);
  });

  it('a final result word then the host\'s own print: the module said the final, the rest is the program', () => {
    expect(finalThenWords('SEND OK Publishing GPS data: Mydata')).toEqual({ final: 'SEND OK', rest: 'Publishing GPS data: Mydata' });
    expect(finalThenWords('ERROR Failed to publish data!')).toEqual({ final: 'ERROR', rest: 'Failed to publish data!' });
    expect(finalThenWords('OK')).toBeUndefined();
    expect(finalThenWords('CONNECT 115200')).toBeUndefined();
    expect(finalThenWords('SEND OK')).toBeUndefined();
    // Upper-case words after it may be the module's own line (`CONNECT OK`, `NO CARRIER`): not split.
    expect(finalThenWords('CONNECT OK')).toBeUndefined();
    expect(finalThenWords('OK CLOSED')).toBeUndefined();
  });

  it('the host\'s verdict that a send or publish failed, in the ways programs print it', () => {
    for (const t of ['Failed to publish data!', 'publish failed', 'Send failed.', '[MQTT] publish to a/b failed', 'Could not send data', 'failed to send packet', 'Publishing error'])
      expect(saysSendFailed(t), t).toBe(true);
    for (const t of ['SEND OK', 'Failed to connect to TCP/IP!', 'I tried to publish but the broker never got it, what is wrong with my sketch here?', 'publish ok'])
      expect(saysSendFailed(t), t).toBe(false);
  });

  it('the real log: ERROR to a send the library does not print, and the sketch says the publish failed: send-failed, not a close or open failure', async () => {
    const r = await doctorText(`${FONA_PUBLISH.join('\n')}\n`);
    expect(r.events).toContain('rx SEND OK');
    expect(r.events).toContain('rx ERROR');
    expect(r.events).toContain('note Failed to publish data!');
    expect(r.events).toContain('tx AT+CIPCLOSE');
    expect(r.events).toContain('rx CLOSE OK');
    expect(r.ids).toContain('send-failed');
    expect(r.ids).not.toContain('socket-close-failed');
    expect(r.ids).not.toContain('socket-open-failed');
  });

  it('the same log with a healthy publish (SEND OK twice, no verdict) has no send-failed', async () => {
    const healthy = FONA_PUBLISH.slice(0, 6).concat(['<--- SEND OK Published!', '---> AT+CIPCLOSE <--- CLOSE OK']);
    const r = await doctorText(`${healthy.join('\n')}\n`);
    expect(r.ids).not.toContain('send-failed');
  });

  it('an ERROR with no verdict of a send next to it is no send-failed (the unprinted command could be anything)', async () => {
    const other = FONA_PUBLISH.slice(0, 6).concat(['<--- ERROR Checking the battery...', '---> AT+CIPCLOSE <--- CLOSE OK']);
    expect((await doctorText(`${other.join('\n')}\n`)).ids).not.toContain('send-failed');
  });

  it('holds with CRLF, timestamps, tabs before the arrows and the breaks kept or lost (fast-check, fixed seed)', async () => {
    const variant = fc.record({
      crlf: fc.boolean(),
      stamps: fc.boolean(),
      tab: fc.boolean(),
      joinClose: fc.boolean(),
      verdict: fc.constantFrom('Failed to publish data!', 'publish failed', 'Send failed'),
    });
    const samples = fc.sample(variant, { numRuns: 12, seed: 20 });
    for (const v of samples) {
      const lines = [...FONA_PUBLISH.slice(0, 6), `<--- ERROR ${v.verdict}`, ...(v.joinClose ? ['---> AT+CIPCLOSE <--- CLOSE OK'] : ['---> AT+CIPCLOSE', '<--- CLOSE OK'])]
        .map((l) => (v.tab && /^(?:<---|--->)/.test(l) ? `\t${l}` : l))
        .map((l, k) => (v.stamps ? `[12:00:${String(10 + k).padStart(2, '0')}.000] ${l}` : l));
      const r = await doctorText(lines.join(v.crlf ? '\r\n' : '\n') + (v.crlf ? '\r\n' : '\n'));
      expect(r.ids, JSON.stringify(v)).toContain('send-failed');
      expect(r.ids, JSON.stringify(v)).not.toContain('socket-close-failed');
    }
  });
});

/** Real excerpt: phillipdavidstearns/simcom_wwan-setup issue #2 (Waveshare SIM7600X HAT, the vendor's Python SMS demo). */
const SEND_AT_SILENT = ['SIM7600X is ready', 'Setting SMS mode...', 'AT+CMGF=1 ERROR', 'AT+CMGF=1 back:\t', 'Sending Short Message', 'AT+CMGS="<phone_number>" ERROR', 'AT+CMGS="<phone_number>" back:\t', 'error0'];

describe('Waveshare\'s send_at helper: its verdict and the reply it printed', () => {
  it('the real excerpt: nothing came back to any command: no-response, and the script\'s ERROR is no rejection', async () => {
    const r = await doctorText(`${SEND_AT_SILENT.join('\n')}\n`);
    expect(r.ids).toContain('no-response');
    expect(r.ids).not.toContain('command-rejected');
  });

  it('a reply after `back:` is the module\'s: the echo on that line, its lines after it (a real rejection stays one)', async () => {
    const r = await doctorText(['AT+CPIN? ERROR', 'AT+CPIN? back:\tAT+CPIN?', '+CME ERROR: SIM not inserted', '', 'AT+CSQ ERROR', 'AT+CSQ back:\tAT+CSQ', '+CSQ: 99,99', '', 'OK', ''].join('\n'));
    expect(r.events).toContain('tx AT+CPIN?');
    expect(r.events).toContain('rx +CME ERROR: SIM not inserted');
    expect(r.ids).toContain('sim-missing');
    expect(r.ids).not.toContain('no-response');
  });

  it('copies that print `CMD no responce`, or `CMD back:` on every reply (the Pico demos), read the same way', async () => {
    const none = await doctorText(['AT no responce', 'AT+CPIN? no responce', 'AT+CSQ no responce', ''].join('\n'));
    expect(none.ids).toContain('no-response');
    const pico = await doctorText(['AT+CSQ back:AT+CSQ', '+CSQ: 20,99', '', 'OK', 'AT+CGREG? back:AT+CGREG?', '+CGREG: 0,1', '', 'OK', ''].join('\n'));
    expect(pico.events).toContain('tx AT+CSQ');
    expect(pico.events).toContain('rx OK');
    expect(pico.ids).toEqual([]);
  });

  it('holds with CRLF, timestamps and the tab kept or lost (fast-check, fixed seed)', async () => {
    const samples = fc.sample(fc.record({ crlf: fc.boolean(), stamps: fc.boolean(), tab: fc.boolean() }), { numRuns: 8, seed: 111 });
    for (const v of samples) {
      const lines = SEND_AT_SILENT.map((l) => (v.tab ? l : l.replace(/\t$/, ''))).map((l, k) => (v.stamps ? `12:00:${String(10 + k).padStart(2, '0')}.000 -> ${l}` : l));
      const r = await doctorText(lines.join(v.crlf ? '\r\n' : '\n') + '\n');
      expect(r.ids, JSON.stringify(v)).toContain('no-response');
      expect(r.ids, JSON.stringify(v)).not.toContain('command-rejected');
    }
  });
});

/** Real excerpt: espressif/ESP8266_AT issue #7 (at_v0.20, a described session: commands indented, results as prose). */
const DESCRIBED = ['  AT+CIPMUX=0', '  AT+CIPSTART="UDP","pool.ntp.org",123', '  AT+CIPSTATUS returns +CIPSTATUS:0,"UDP","217.114.59.3",123,25349,0', '  AT+CIPSEND=48 - hangs with no > data prompt'];

describe('a person\'s note on a command\'s line: what it answered, or that nothing came', () => {
  it('the real excerpt: `returns X` is the answer, `- hangs with no > data prompt` says the send got nothing: no-response', async () => {
    const r = await doctorText(`${DESCRIBED.join('\n')}\n`);
    expect(r.events).toContain('tx AT+CIPSTATUS');
    expect(r.events).toContain('rx +CIPSTATUS:0,"UDP","217.114.59.3",123,25349,0');
    expect(r.events).toContain('tx AT+CIPSEND=48');
    expect(r.ids).toContain('no-response');
    expect(r.ids).not.toContain('send-failed');
    expect(r.ids).not.toContain('socket-open-failed');
  });

  it('other separators and wordings say the same; a note that says something else is no silence', async () => {
    const notes = ['- hangs with no > data prompt', '// no response', '-- times out', 'hangs', 'never returns', '(nothing comes back)', "- doesn't respond", '- no answer'];
    const samples = fc.sample(fc.record({ note: fc.constantFrom(...notes), crlf: fc.boolean(), indent: fc.constantFrom('', '  ', '\t') }), { numRuns: 16, seed: 119 });
    for (const v of samples) {
      const lines = [...DESCRIBED.slice(0, 3), `AT+CIPSEND=48 ${v.note}`].map((l) => `${v.indent}${l.trim()}`);
      const r = await doctorText(lines.join(v.crlf ? '\r\n' : '\n') + '\n');
      expect(r.ids, JSON.stringify(v)).toContain('no-response');
    }
    for (const other of ['- works fine', '// set single connection', '- sends 48 bytes']) {
      const r = await doctorText([...DESCRIBED.slice(0, 3), `AT+CIPSEND=48 ${other}`, ''].join('\n'));
      expect(r.ids, other).not.toContain('no-response');
    }
  });

  it('a sentence that starts with a command is still a person\'s words', async () => {
    const r = await doctorText(['AT+CSQ', '+CSQ: 20,99', 'OK', 'AT+CIPSEND is not working for me, what should I try next?', ''].join('\n'));
    expect(r.events).not.toContain('tx AT+CIPSEND');
    expect(r.ids).toEqual([]);
  });
});
