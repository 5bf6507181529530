import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/trace/import/index.js';
import { detectFormat } from '../../src/trace/import/detect.js';
import { importTranscript } from '../../src/trace/import/transcript.js';
import { carriesTraffic } from '../../src/trace/import/line-kind.js';
import { parseValue } from '../../src/trace/import/logic-csv.js';
import { Readable } from 'node:stream';
import type { TraceEvent } from '../../src/trace/events.js';
import { decodeAll, find, tempFile } from '../decode/helpers.js';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { importRaw } from '../../src/trace/import/raw.js';
import { importSocat } from '../../src/trace/import/socat.js';

const CAPTURES = new URL('../../fixtures/captures/', import.meta.url).pathname;

async function collect(events: AsyncIterable<TraceEvent>): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

async function transcript(text: string): Promise<{ dir: string; text: string }[]> {
  const events = await collect(importTranscript(Readable.from([Buffer.from(text, 'utf8')])));
  return events.map((e) => ({ dir: e.dir, text: e.data.toString(e.dir === 'note' ? 'utf8' : 'latin1') }));
}

describe('transcript direction by time', () => {
  it('the same command line back at once is its echo; the same line 150 ms later is the host again', async () => {
    const lines = await transcript('[10:00:00.000] AT\n[10:00:00.150] AT\n[10:00:01.000] AT\n[10:00:01.000] AT\n[10:00:01.001] OK\n');
    expect(lines.map((l) => `${l.dir} ${l.text.trim()}`)).toEqual(['tx AT', 'tx AT', 'tx AT', 'rx AT', 'rx OK']);
  });

  it('with whole-second stamps an echo may cross a second boundary and is still the echo', async () => {
    const lines = await transcript('[10:00:00] AT+CSQ\n[10:00:01] AT+CSQ\n[10:00:01] +CSQ: 20,99\n[10:00:01] OK\n');
    expect(lines.map((l) => l.dir)).toEqual(['tx', 'rx', 'rx', 'rx']);
  });
});

describe('transcript that lost its line breaks', () => {
  it('a command followed by answers on one line becomes the command and each answer', async () => {
    const lines = await transcript('AT+CWMODE? +CWMODE:1 OK\nAT+CWJAP="ap 2","my OK pw" WIFI CONNECTED +CWJAP:1 FAIL WIFI DISCONNECT\n');
    expect(lines.map((l) => `${l.dir} ${l.text.trim()}`)).toEqual([
      'tx AT+CWMODE?', 'rx +CWMODE:1', 'rx OK',
      'tx AT+CWJAP="ap 2","my OK pw"', 'rx WIFI CONNECTED', 'rx +CWJAP:1', 'rx FAIL', 'rx WIFI DISCONNECT',
    ]);
  });

  it('the module echoing the host command flattened with its answers is the echo, not a second command', async () => {
    const lines = await transcript('AT+CWMODE?\nAT+CWMODE? +CWMODE:1 OK\n');
    expect(lines.map((l) => `${l.dir} ${l.text.trim()}`)).toEqual(['tx AT+CWMODE?', 'rx AT+CWMODE?', 'rx +CWMODE:1', 'rx OK']);
  });

  it('leaves lines alone that are not a command and its answers', async () => {
    const lines = await transcript('AT+CSQ to check the signal\n+CSQ: 20,99 OK then\nAT version:2.2.0.0 OK\n');
    expect(lines.map((l) => l.text.trim())).toEqual(['AT+CSQ to check the signal', '+CSQ: 20,99 OK then', 'AT version:2.2.0.0 OK']);
  });
});

describe('issue-template text', () => {
  it('the "Expected result" section is what the reporter wanted, not traffic; the next heading ends it', async () => {
    const lines = await transcript('### Expected result\n+CAOPEN: 0,0\nOK\n### Actual result\nAT+CAOPEN=0,0,"TCP","h",1\n+CAOPEN: 0,1\n');
    expect(lines.map((l) => `${l.dir} ${l.text.trim()}`)).toEqual([
      'note ### Expected result', 'note +CAOPEN: 0,0', 'note OK', 'note ### Actual result', 'tx AT+CAOPEN=0,0,"TCP","h",1', 'rx +CAOPEN: 0,1',
    ]);
    const bare = await transcript('Expected Results\n+HTTPACTION: 1,200,0\nActual Results\n+HTTPACTION: 1,716,0\n');
    expect(bare.map((l) => l.dir)).toEqual(['note', 'note', 'note', 'rx']);
  });

  it('a label with nothing after its colon and a sentence with contractions are a person\'s words', async () => {
    const lines = await transcript('AT\nbut giving only:\nresp:\nAt\nNo, I\'ve provided everything above.\n');
    expect(lines.map((l) => l.dir)).toEqual(['tx', 'note', 'note', 'rx', 'note']);
  });
});

describe('format detection', () => {
  it.each([
    ['socat-v-sim7600-mqtt.log', 'socat'],
    ['socat-x-esp-at-mqtt.log', 'socat'],
    ['interceptty-sim7600-cme10.log', 'interceptty'],
    ['logic2-esp-at-cwjap-wrong-password.csv', 'logic-csv'],
    ['logic1-sim7600-creg-searching.csv', 'logic-csv'],
    ['esp-at-merged.raw', 'raw'],
  ])('%s → %s, guessing the profile from the bytes', async (file, format) => {
    const capture = await openCapture(CAPTURES + file);
    expect(capture.format).toBe(format);
    expect(capture.profile).toBe(/sim7600/.test(file) ? 'sim7600' : 'esp-at');
    await collect(capture.events);
  });

  it('a trace recorded with --profile auto (no profile in its header) takes the profile from the identify note', async () => {
    const lines = [
      '{"type":"atbridge-trace","version":1,"baud":115200,"device":"/dev/ttyUSB0"}',
      // Cellular-looking words first; the module turned out to be ESP-AT.
      '{"t":1,"dir":"tx","data":"AT+CPIN?\\r\\n"}',
      '{"t":2,"dir":"rx","data":"\\r\\nERROR\\r\\n"}',
      '{"t":3,"dir":"note","data":"state identify → init: identified as esp-at","fields":{"state":"init"}}',
      '{"t":4,"dir":"tx","data":"AT+GMR\\r\\n"}',
    ];
    const capture = await openCapture(tempFile('auto.jsonl', `${lines.join('\n')}\n`));
    expect(capture.profile).toBe('esp-at');
  });

  it('tells JSONL, raw wire bytes and a pasted transcript apart', () => {
    expect(detectFormat(Buffer.from('{"type":"atbridge-trace","version":1}\n{"t":0,"dir":"tx","data":"AT\\r"}\n'))).toBe('jsonl');
    expect(detectFormat(Buffer.from('AT\r\r\nOK\r\n'))).toBe('raw');
    expect(detectFormat(Buffer.from('AT\nOK\n'))).toBe('transcript');
  });
});

describe('socat importer (real socat output)', () => {
  it('-x gives exact bytes and both directions, with MQTT decodable inside', async () => {
    const { entries } = await decodeAll(`${CAPTURES}socat-x-esp-at-mqtt.log`);
    expect(find(entries, 'AT+CWJAP="atbridge-lab","********"')?.dir).toBe('tx');
    const packets = entries.flatMap((e) => (e.mqtt ?? []).map((p) => `${e.dir} ${p.type}`));
    expect(packets).toContain('tx CONNECT');
    expect(packets).toContain('rx CONNACK');
    expect(packets).toContain('tx SUBSCRIBE');
    expect(packets).toContain('tx PUBLISH');
    const publish = entries.flatMap((e) => e.mqtt ?? []).find((p) => p.type === 'PUBLISH');
    expect(publish).toMatchObject({ topic: 'lab/temp', qos: 1, payloadPreview: '21.5' });
  });

  it('-v text (data runs into the next header) splits on length=', async () => {
    const capture = await openCapture(`${CAPTURES}socat-v-sim7600-mqtt.log`);
    const events = await collect(capture.events);
    expect(events[0]).toMatchObject({ dir: 'tx' });
    expect(events[0]!.data.toString('latin1')).toBe('AT\r');
    expect(events[1]!.data.toString('latin1')).toBe('A');
    expect(events.some((e) => e.dir === 'rx' && e.data.toString('latin1').includes('+CIPOPEN: 0,0'))).toBe(true);
  });

  it('-v: an escape like \\b is one byte, so the transfer after it still starts at its header', async () => {
    const { entries } = await decodeAll(`${CAPTURES}socat-v-sim7600-mqtt.log`);
    expect(entries.filter((e) => e.kind === 'note' && /length=\d+ from=/.test(e.text))).toEqual([]);
    const publish = entries.findIndex((e) => e.dir === 'tx' && e.socket?.bytes === 18);
    // PUBLISH 32 10 00 08 "lab/temp" 00 02 "21.5": socat -v printed it as `2..\blab/temp..21.5`.
    expect(entries[publish]!.text).toBe('2..\\x08lab/temp..21.5');
    expect(entries.slice(publish + 1, publish + 3).map((e) => `${e.kind} ${e.text}`)).toEqual(['final OK', 'urc +CIPSEND: 0,18,18']);
  });

  it('-v: every escape socat 1.7.4 prints maps back to its byte; times are the microseconds socat pads to nine digits', async () => {
    // Real `socat -v` output for bytes 0x00-0xff, then `a\b\r\\c` LF LF CR CR `X` (no newline at the end).
    const printable = Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join('').replace('\\', '\\\\');
    const shown =
      '> 2026/11/23 11:11:33.000718582  length=256 from=0 to=255\n' +
      `${'.'.repeat(7)}\\a\\b\t\n\\v\\f\\r${'.'.repeat(18)}${printable}${'.'.repeat(129)}` +
      '> 2026/11/23 11:11:33.000919108  length=13 from=256 to=268\n' +
      'a\\\\b\\\\r\\\\\\\\c\n\n\\r\\rX';
    const bytes = Buffer.from(shown, 'latin1');
    // Cut into small chunks so escapes and headers straddle chunk ends.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 5) }, (_, i) => bytes.subarray(i * 5, i * 5 + 5));
    const events = (await collect(importSocat(Readable.from(chunks)))).filter((e) => e.dir !== 'note');
    const expected = Buffer.from(Array.from({ length: 256 }, (_, b) => ((b >= 0x07 && b <= 0x0d) || (b >= 0x20 && b <= 0x7e) ? b : 0x2e)));
    expect(events.map((e) => e.data)).toEqual([expected, Buffer.from('a\\b\\r\\\\c\n\n\r\rX', 'latin1')]);
    expect(events[1]!.t! - events[0]!.t!).toBeCloseTo(200.526, 3);
  });
});

describe('interceptty, logic-analyzer CSV and raw importers', () => {
  it('interceptty: < is the host, > the module; CME 10 means no SIM', async () => {
    const { entries } = await decodeAll(`${CAPTURES}interceptty-sim7600-cme10.log`);
    expect(find(entries, 'AT+CSQ')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, '+CME ERROR: 10')).toMatchObject({ kind: 'final', outcome: 'error', meaning: 'SIM not inserted' });
  });

  it('Logic 2 export with two analyzers: directions from the names, times from start_time', async () => {
    const { entries } = await decodeAll(`${CAPTURES}logic2-esp-at-cwjap-wrong-password.csv`);
    expect(find(entries, /^AT\+CWJAP=/)).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, '+CWJAP:2')).toMatchObject({ meaning: 'wrong password' });
    const fail = find(entries, 'FAIL')!;
    expect(fail.kind).toBe('final');
    expect(fail.rttMs).toBeGreaterThan(5000);
  });

  it('Logic 1 export, one channel of hex values', async () => {
    const { entries, profile } = await decodeAll(`${CAPTURES}logic1-sim7600-creg-searching.csv`);
    // Only words every cellular family says (AT+CREG?, +CREG): read with the 3GPP base.
    expect(profile).toBe('3gpp-base');
    expect(find(entries, '+CREG: 0,2')).toMatchObject({ meaning: 'not registered, searching' });
  });

  it('parses the value spellings analyzers use', () => {
    expect([parseValue('0x41'), parseValue("'A'"), parseValue('\\r'), parseValue("' '"), parseValue('0b00001010'), parseValue("'13'")]).toEqual([0x41, 0x41, 13, 32, 10, 13]);
  });

  it('raw merged dump: commands are recognised in the one stream', async () => {
    const { entries } = await decodeAll(`${CAPTURES}esp-at-merged.raw`);
    expect(find(entries, 'AT+GMR')).toMatchObject({ dir: 'tx', kind: 'command', inferred: true });
    expect(entries.filter((e) => e.kind === 'final' && e.outcome === 'ok').length).toBeGreaterThan(3);
  });

  it('raw merged dump: the n bytes after the prompt of AT+CIPSEND=n are the host\'s, with its MQTT decoded', async () => {
    const { entries } = await decodeAll(`${CAPTURES}esp-at-merged.raw`);
    expect(entries.filter((e) => e.kind === 'noise')).toEqual([]);
    const sent = entries.filter((e) => e.dir === 'tx' && e.socket?.via === 'send');
    expect(sent.map((e) => e.socket!.bytes)).toEqual([23, 12, 18, 4, 2]);
    expect(sent.flatMap((e) => e.mqtt ?? []).map((p) => p.type)).toEqual(['CONNECT', 'SUBSCRIBE', 'PUBLISH', 'PUBACK', 'DISCONNECT']);
    expect(sent.flatMap((e) => e.mqtt ?? []).find((p) => p.type === 'PUBLISH')).toMatchObject({ topic: 'lab/temp', payloadPreview: '21.5' });
  });

  it('raw merged dump: one event per line (blank ones joined to the next) or direction change, with its line number; doctor finds no noise', async () => {
    const capture = await openCapture(`${CAPTURES}esp-at-merged.raw`);
    const events = await collect(capture.events);
    expect(events.length).toBeGreaterThan(70);
    const prompt = events.findIndex((e) => e.dir === 'tx');
    expect(events.slice(prompt - 2, prompt).map((e) => `${e.dir} ${e.data.toString('latin1')}`)).toEqual(['rx \r\nOK\r\n', 'rx \r\n>']);
    expect(events[prompt]!.data.subarray(0, 8)).toEqual(Buffer.from('\x10\x15\x00\x04MQTT', 'latin1'));
    expect(events[prompt + 1]!.data.toString('latin1')).toBe('\r\nRecv 23 bytes\r\n');
    expect(events.find((e) => e.data.toString('latin1').endsWith('CLOSED\r\n'))).toMatchObject({ dir: 'rx', line: 122 });
    const a = await analyzeEvents(events, { profile: 'esp-at' });
    expect(a.findings.map((f) => f.id)).not.toContain('line-corruption');
    // The host sent MQTT DISCONNECT (its payload decoded from the merged stream), so CLOSED is the goodbye.
    expect(a.findings.map((f) => f.id)).not.toContain('peer-closed');
  });

  it('raw: the events do not depend on how the file is cut into chunks; one direction only takes no payload', async () => {
    const bytes = readFileSync(`${CAPTURES}esp-at-merged.raw`);
    const whole = await collect(importRaw(Readable.from([bytes])));
    const chunks = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) => bytes.subarray(i * 3, i * 3 + 3));
    expect(await collect(importRaw(Readable.from(chunks)))).toEqual(whole);
    const rxOnly = await collect(importRaw(Readable.from([bytes]), 'rx'));
    expect(rxOnly.every((e) => e.dir === 'rx')).toBe(true);
    expect(Buffer.concat(rxOnly.map((e) => e.data))).toEqual(bytes);
    // A prompt after ERROR is not a send: and SIM7600's `AT+CIPSEND=0,3` CR, then `>` with its space.
    const sim = await collect(importRaw(Readable.from([Buffer.from('AT+CIPSEND=0,9\r\r\nERROR\r\n>x\r\nAT+CIPSEND=0,3\r\r\n> abc\r\nOK\r\n')])));
    expect(sim.map((e) => `${e.dir} ${e.data.toString('latin1')}`)).toEqual([
      'rx AT+CIPSEND=0,9\r\r\n', 'rx ERROR\r\n', 'rx >x\r\n', 'rx AT+CIPSEND=0,3\r\r\n', 'rx > ', 'tx abc', 'rx \r\nOK\r\n',
    ]);
  });
});

describe('transcript styles as people paste them', () => {
  it('unmarked: AT lines are the host, a repeat right after is the echo', async () => {
    expect(await transcript('AT+CSQ\nAT+CSQ\n+CSQ: 20,99\nOK\nAT+CSQ\n')).toEqual([
      { dir: 'tx', text: 'AT+CSQ\r\n' },
      { dir: 'rx', text: 'AT+CSQ\r\n' },
      { dir: 'rx', text: '+CSQ: 20,99\r\n' },
      { dir: 'rx', text: 'OK\r\n' },
      { dir: 'tx', text: 'AT+CSQ\r\n' },
    ]);
  });

  it('>> / << and --> / <-- prefixes, » / «, AT> / AT<', async () => {
    const out = await transcript('>> AT\n<< OK\n--> ATI\n<-- SIMCOM\n» AT+GMR\n« OK\nAT> AT+RST\nAT< OK\n');
    expect(out.map((e) => e.dir)).toEqual(['tx', 'rx', 'tx', 'rx', 'tx', 'rx', 'tx', 'rx']);
    expect(out[5]!.text).toBe('OK\r\n');
  });

  it("Adafruit's ---> / <--- debug prints, also inside a Markdown quote", async () => {
    const out = await transcript("> ---> AT\n> <--- b'AT\\r\\n\\r\\nOK\\r\\n'\n> ---> AT+GMR\n> <--- b''\n---> AT+CIPCLOSE\n<--- CLOSE OK\n");
    expect(out.filter((e) => e.dir === 'tx').map((e) => e.text)).toEqual(['AT\r\n', 'AT+GMR\r\n', 'AT+CIPCLOSE\r\n']);
    expect(out.filter((e) => e.dir === 'rx').map((e) => e.text).join('')).toContain('OK\r\n');
    expect(out.at(-1)).toEqual({ dir: 'rx', text: 'CLOSE OK\r\n' });
  });

  it('serial assistant: [time] with send/receive markers; times become ms since the first', async () => {
    const events = await collect(
      importTranscript(Readable.from([Buffer.from('[10:00:00.100]发→◇AT+CREG?\n[10:00:00.150]收←◆+CREG: 0,2\n[10:00:00.151]收←◆OK\n', 'utf8')])),
    );
    expect(events.map((e) => [e.dir, e.t, e.data.toString('latin1')])).toEqual([
      ['tx', 0, 'AT+CREG?\r\n'],
      ['rx', 50, '+CREG: 0,2\r\n'],
      ['rx', 51, 'OK\r\n'],
    ]);
  });

  it('a date with slashes and a colon after the stamp (2023/07/09 10:00:00.100: ): the stamp goes, the line is read', async () => {
    const events = await collect(
      importTranscript(Readable.from([Buffer.from('0000/01/01 00:12:26.460: AT+CREG?\n0000/01/01 00:12:26.500: \n0000/01/01 00:12:26.500: +CREG: 2,0\n0000/01/01 00:12:26.500: OK\n', 'utf8')])),
    );
    expect(events.filter((e) => e.data.toString('latin1').trim() !== '').map((e) => [e.dir, e.t, e.data.toString('latin1')])).toEqual([
      ['tx', 0, 'AT+CREG?\r\n'],
      ['rx', 40, '+CREG: 2,0\r\n'],
      ['rx', 40, 'OK\r\n'],
    ]);
  });

  it('outside the fences of a fenced post, a host label before traffic is still the log; a sentence is prose', async () => {
    const text = 'I tried this:\nRisposta ricevuta: AT+CPIN?\n+CPIN: READY\nOK\nThe module says: it works\n```\nAT\n```\n';
    const events = await collect(importTranscript(Readable.from([Buffer.from(text, 'utf8')]), { fenced: true }));
    const traffic = events.filter((e) => e.dir !== 'note').map((e) => `${e.dir} ${e.data.toString('latin1').trim()}`);
    expect(traffic.slice(0, 3)).toEqual(['tx AT+CPIN?', 'rx +CPIN: READY', 'rx OK']);
    expect(traffic.join('|')).not.toContain('it works');
  });

  it('explicit (\\r)(\\n) and <\\r><\\n> markers become the bytes', async () => {
    const out = await transcript('[serial (WiFi)] TX: AT+CIPSEND=0,4(\\r)(\\n)\n[serial (WiFi)] RX: OK(\\r)(\\n)\nSDK version:2.1.0<\\r><\\n>\n');
    expect(out).toEqual([
      { dir: 'tx', text: 'AT+CIPSEND=0,4\r\n' },
      { dir: 'rx', text: 'OK\r\n' },
      { dir: 'rx', text: 'SDK version:2.1.0\r\n' },
    ]);
  });

  it('WiFiEspAT debug output and Arduino monitor timestamps', async () => {
    const out = await transcript('21:56:25.813 -> esp> AT+CWJAP? ...sent\n21:56:25.813 -> esp> OK ...matched\n21:56:26.828 -> esp> ?\n21:56:26.900 -> esp INFO: AP query\n');
    expect(out).toEqual([
      { dir: 'tx', text: 'AT+CWJAP?\r\n' },
      { dir: 'rx', text: 'OK\r\n' },
      { dir: 'note', text: 'esp> ?' },
      { dir: 'note', text: 'esp INFO: AP query' },
    ]);
  });

  it('prose outside Markdown fences is a note; prompt and payload on one line are split', async () => {
    const path = tempFile('issue.txt', 'It fails:\n```\nAT+CIPSEND=0,5\n>HELLO\nOK\n```\nthanks\n');
    const capture = await openCapture(path);
    const events = (await collect(capture.events)).map((e) => [e.dir, e.data.toString('latin1')]);
    expect(events).toEqual([
      ['note', 'It fails:'],
      ['tx', 'AT+CIPSEND=0,5\r\n'],
      ['rx', '> '],
      ['tx', 'HELLO'],
      ['rx', 'OK\r\n'],
      ['note', 'thanks'],
    ]);
  });

  it('a pyserial print of bytes literals', async () => {
    const out = await transcript("发送数据 b'AT\\r\\n'\n");
    expect(out).toEqual([{ dir: 'tx', text: 'AT\r\n' }]);
  });
});

describe('bad input', () => {
  it('a missing file and a broken JSONL are one-line errors with exit code 23', async () => {
    await expect(openCapture('/nonexistent/x.log')).rejects.toMatchObject({ code: 'bad-input', exitCode: 23 });
    const path = tempFile('bad.jsonl', '{"type":"atbridge-trace","version":1}\n{"t":0,"dir":"tx"\n');
    await expect(openCapture(path, { format: 'jsonl' })).rejects.toMatchObject({ code: 'bad-input' });
  });

  it('an empty capture (no bytes, blank lines, a trace header alone) holds no AT traffic: bad input, exit code 23', async () => {
    await expect(openCapture(tempFile('empty.log', ''))).rejects.toMatchObject({ code: 'no-traffic', exitCode: 23, message: expect.stringMatching(/^no AT traffic found in .*empty\.log \(read as transcript\)$/) });
    await expect(openCapture(tempFile('blank.txt', '\r\n\n  \n'))).rejects.toMatchObject({ code: 'no-traffic', exitCode: 23 });
    const header = '{"type":"atbridge-trace","version":1,"tool":"atbridge 0.1.0","start":"2026-11-23T00:00:00.000Z"}\n';
    await expect(openCapture(tempFile('header.jsonl', header))).rejects.toMatchObject({ exitCode: 23, message: expect.stringMatching(/no AT traffic found in .*header\.jsonl \(read as jsonl\)$/) });
    // Our own trace with state-change notes and no byte to or from the module.
    const notes = `${header}{"t":0,"dir":"note","data":"state closed -> detect-baud"}\n`;
    await expect(openCapture(tempFile('notes.jsonl', notes))).rejects.toMatchObject({ code: 'no-traffic' });
  });

  it('traffic past the first 64 KiB of noise is found (a second read of the file), and the capture opens', async () => {
    const noise = Buffer.alloc(300 * 1024, 0xfe);
    const path = tempFile('late.raw', Buffer.concat([noise, Buffer.from('\r\nAT\r\r\nOK\r\n')]));
    const capture = await openCapture(path, { format: 'raw' });
    const text = Buffer.concat((await collect(capture.events)).map((e) => e.data)).toString('latin1');
    expect(text.endsWith('OK\r\n')).toBe(true);
    await expect(openCapture(tempFile('noise.raw', noise), { format: 'raw' })).rejects.toMatchObject({ code: 'no-traffic', message: expect.stringMatching(/\(read as raw\)$/) });
  });

  it('a line carries traffic by itself or after a label; a sentence or a code line does not', () => {
    for (const line of ['AT+CSQ', '+CREG: 0,1', '9306.467 [GSM]:  => AT', 'bgxx: << +QMTOPEN: 0,-1', 'expect (OK)', "DEBUG -> Lines: ['+CREG: 0,0', 'OK']", '也就是换一行 +IPD,0,3:123']) {
      expect(carriesTraffic(line), line).toBe(true);
    }
    for (const line of ['This is not a log', 'The module answers OK', 'hello there', 'Send AT+CSQ to check the signal']) {
      expect(carriesTraffic(line), line).toBe(false);
    }
    expect(carriesTraffic('[00001062ms][INFO][CELL]: AT TX ( 2): AT', true)).toBe(true);
    expect(carriesTraffic('then I send AT+CSQ', true)).toBe(false);
  });

  it('a raw direction other than rx, tx or merged is a usage error (exit code 2)', async () => {
    const path = tempFile('dump.raw', 'AT\r\nOK\r\n');
    await expect(openCapture(path, { format: 'raw', rawDirection: 'up' as 'rx' })).rejects.toMatchObject({ code: 'bad-option', exitCode: 2 });
  });
});

it('the captures folder holds a sample of every foreign format', () => {
  expect(readdirSync(CAPTURES).filter((f) => !f.endsWith('.mjs')).length).toBeGreaterThanOrEqual(6);
});
