import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/trace/import/index.js';
import { READER_NAMES } from '../../src/trace/import/readers/index.js';
import type { TraceEvent } from '../../src/trace/events.js';

const FIXTURES = new URL('./readers/', import.meta.url).pathname;

/** The fixture's events as `dir reader text` lines (notes: `note read text`). */
async function read(name: string): Promise<string[]> {
  const capture = await openCapture(`${FIXTURES}${name}.txt`);
  const out: string[] = [];
  for await (const e of capture.events as AsyncIterable<TraceEvent>) {
    const tag = e.dir === 'note' ? String(e.fields?.read ?? '') : String(e.fields?.reader ?? e.fields?.read ?? 'traffic');
    out.push(`${e.dir} ${tag} ${e.data.toString('latin1').trim()}`.trim());
  }
  return out;
}

describe('each debug-format reader, on a real excerpt from the corpus (test/import/readers/<name>.txt)', () => {
  it('every named reader has a fixture', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(FIXTURES).map((f) => f.replace(/\.txt$/, ''));
    for (const name of READER_NAMES) expect(files).toContain(name);
  });

  it('esp-idf: esp_modem hex dumps become lines per direction; PPP/CMUX frames and the library\'s own lines are notes', async () => {
    const lines = await read('esp-idf');
    expect(lines).toContain('tx esp-idf AT');
    expect(lines).toContain('rx esp-idf RDY');
    expect(lines).toContain('rx esp-idf +CPIN: READY');
    expect(lines).toContain('rx esp-idf OK');
    expect(lines).toContain('tx esp-idf AT+CGMM');
    expect(lines.some((l) => /^note debug sent PPP frame bytes: 7e ff 03/.test(l))).toBe(true);
    expect(lines.some((l) => /^note debug sent CMUX frame bytes: f9 03/.test(l))).toBe(true);
    expect(lines.some((l) => /^note debug E \(\d+\) app: esp_modem_sync failed/.test(l))).toBe(true);
  });

  it('esphome: `Unhandled: <line> - n` and `Not ack. n <line>` are the module\'s; the component\'s own words are notes', async () => {
    const lines = await read('esphome');
    expect(lines).toContain('rx esphome +CREG: 1,0');
    expect(lines).toContain('rx esphome OK');
    expect(lines.some((l) => /^note debug .*Waiting SYNC/.test(l))).toBe(true);
  });

  it('mbed-trace: AT TX / AT RX pieces with <cr><ln> are joined into lines', async () => {
    const lines = await read('mbed-trace');
    expect(lines).toContain('tx mbed-trace AT+CPIN?');
    expect(lines).toContain('rx mbed-trace +CPIN: READY');
    expect(lines).toContain('rx mbed-trace OK');
  });

  it('zephyr: modem_chat sending / received_command, and modem_cmd_handler hex dumps', async () => {
    const lines = await read('zephyr');
    expect(lines).toContain('tx zephyr AT+CSQ');
    expect(lines).toContain('rx zephyr +CSQ: 99,99');
    expect(lines).toContain('tx zephyr AT+CIPSEND=0,33,"8.8.8.8",53');
    expect(lines).toContain('rx zephyr OK');
  });

  it('tinygsm: `### Unhandled: X` is the module\'s line X; an empty one is nothing', async () => {
    const lines = await read('tinygsm');
    expect(lines).toContain('rx tinygsm +CPIN: NOT READY');
    expect(lines.filter((l) => l.startsWith('rx tinygsm'))).toEqual(['rx tinygsm +CPIN: NOT READY']);
    expect(lines).toContain('tx traffic AT+CREG?');
  });

  it('mbed-athandler: AT> sent, AT< received, AT! an out-of-band match, AT? the parser\'s own pattern', async () => {
    const lines = await read('mbed-athandler');
    expect(lines).toContain('tx mbed-athandler AT+CIPSEND=0,653');
    expect(lines).toContain('rx mbed-athandler Recv 653 bytes');
    expect(lines).toContain('rx mbed-athandler busy');
    expect(lines).toContain('note debug AT? >%n');
  });

  it('send-at: Waveshare\'s `CMD ERROR` is the script\'s verdict, `CMD back:` with nothing after it says nothing came; the script\'s own prints are notes', async () => {
    const lines = await read('send-at');
    expect(lines).toContain('tx send-at AT+CMGF=1');
    expect(lines).toContain('tx send-at AT+CMGS="<phone_number>"');
    expect(lines.filter((l) => /^rx /.test(l))).toEqual([]);
    expect(lines.some((l) => /^note debug AT\+CMGF=1 back: \(nothing came back\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^note debug error0$/.test(l))).toBe(true);
  });

  it('bracket-trace: [SEND]/[RECV], the byte count, C escapes taken back to line ends', async () => {
    const lines = await read('bracket-trace');
    expect(lines).toContain('tx bracket-trace AT+QIDNSCFG=1');
    expect(lines).toContain('rx bracket-trace ERROR');
  });

  it('host-prefix: a label in another language before traffic; direction by content', async () => {
    const lines = await read('host-prefix');
    expect(lines).toContain('tx host-prefix AT+CPIN?');
    expect(lines).toContain('rx traffic +CPIN: READY');
  });
});
