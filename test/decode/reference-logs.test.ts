import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/decode/timeline.js';
import { LOGS_DIR, REFERENCE_LOGS } from '../helpers/reference-logs.js';
import { decodeAll, find } from './helpers.js';

const LOGS = LOGS_DIR;
const files = REFERENCE_LOGS;
const cache = new Map<string, Promise<{ entries: TimelineEntry[]; profile: string; format: string }>>();
const decode = (prefix: string) => {
  const file = files.find((f) => f.startsWith(prefix))!;
  if (!cache.has(file)) cache.set(file, decodeAll(LOGS + file));
  return cache.get(file)!;
};

describe('every reference log imports and decodes, with the right profile guessed', () => {
  it.each(files)('%s', async (file) => {
    const { entries, profile, format } = await decode(file);
    expect(format).toBe('transcript');
    // The A7670, SIM800 and SIM7000 logs among them are read with their own family's profile.
    expect(profile).toMatch(file.startsWith('sim7600') ? /^(?:sim7600|a76xx|sim800|sim7080)$/ : /^(?:esp-at|esp8266-at1)$/);
    expect(entries.length).toBeGreaterThan(3);
  });
});

describe('kinds and meanings a person reading the logs would give', () => {
  it('espat_16: a pasted Wi-Fi password is masked everywhere; the next session ends the passthrough one', async () => {
    const { entries } = await decode('espat_16');
    expect(find(entries, /^AT\+CWJAP=/)).toMatchObject({ dir: 'tx', kind: 'command', text: 'AT+CWJAP="aiot@xuhongv","********"' }); // a fixed mask: the length is not told
    expect(entries.filter((e) => JSON.stringify(e).includes('xuhong12345678'))).toEqual([]);
    // The transcript shows no passthrough data; its later commands are commands again.
    expect(find(entries, 'AT+GMR')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, 'Bin version:2.0.0(WROOM-02-N)')).toMatchObject({ kind: 'info', command: 'AT+GMR' });
  });

  it('sim7600_18: bare ERROR, then +CME ERROR: SIM not inserted after CMEE=2', async () => {
    const { entries } = await decode('sim7600_18');
    expect(find(entries, 'AT+CPIN?')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, '+CME ERROR: SIM not inserted')).toMatchObject({ kind: 'final', outcome: 'error', meaning: 'SIM not inserted', command: 'AT+CPIN?' });
  });

  it('sim7600_16: SIM failure, then +CPIN: READY as a URC, +CGREG: 0,0 answered', async () => {
    const { entries } = await decode('sim7600_16');
    expect(find(entries, '+CME ERROR: SIM failure')).toMatchObject({ kind: 'final', meaning: 'SIM failure' });
    expect(find(entries, '+CPIN: READY')).toMatchObject({ kind: 'urc' });
    expect(find(entries, '*ATREADY: 1')).toMatchObject({ kind: 'urc', reboot: true });
    expect(find(entries, '+CGREG: 0,0')).toMatchObject({ kind: 'info', meaning: 'not registered, not searching' });
  });

  it('sim7600_03: +CIPOPEN: 1,3 is a wrong parameter, CGREG 0,5 roaming', async () => {
    const { entries } = await decode('sim7600_03');
    expect(find(entries, '+CIPOPEN: 1,3')?.meaning).toBe('wrong parameter');
    expect(find(entries, '+CGREG: 0,5')?.meaning).toBe('registered, roaming');
  });

  it('sim7600_15: the URC glued to the next echo is split; SMS DONE mid-session reads as a restart', async () => {
    const { entries } = await decode('sim7600_15');
    expect(find(entries, '+NETOPEN: 0')).toMatchObject({ kind: 'urc', meaning: 'success' });
    expect(find(entries, 'SMS DONE')).toMatchObject({ kind: 'urc', reboot: true });
    expect(find(entries, '+CGEV: EPS PDN ACT 1')).toMatchObject({ kind: 'urc' });
  });

  it('sim7600_09: send with prompt, +IPD block as socket data, transparent mode in and out', async () => {
    const { entries } = await decode('sim7600_09');
    expect(find(entries, 'HOE-7600CE-TCP-TEST')).toMatchObject({ kind: 'data', socket: { link: '0', via: 'push', bytes: 19 } });
    expect(find(entries, 'HELLO')).toMatchObject({ dir: 'tx', kind: 'data', socket: { via: 'send' } });
    expect(find(entries, 'CONNECT 115200')).toMatchObject({ kind: 'final', outcome: 'connect' });
    expect(find(entries, '+++')).toMatchObject({ dir: 'tx', meaning: 'escape from transparent mode' });
  });

  it('sim7600_22: CREG 0,0 while CGREG/CEREG registered', async () => {
    const { entries } = await decode('sim7600_22');
    expect(find(entries, '+CREG: 0,0')?.meaning).toBe('not registered, not searching');
    expect(find(entries, '+CEREG: 0,1')?.meaning).toBe('registered, home network');
  });

  it('sim7600_14: +CMQTTSTART: 23', async () => {
    const { entries } = await decode('sim7600_14');
    expect(find(entries, /^\+CMQTTSTART: 23/)?.meaning).toMatch(/already started|network is opened/);
  });

  it('espat_11: busy p... while CWJAP runs, every probe AT inferred from the python log', async () => {
    const { entries } = await decode('espat_11');
    const busy = entries.filter((e) => e.kind === 'busy');
    expect(busy.length).toBeGreaterThan(5);
    expect(busy[0]).toMatchObject({ busy: 'processing' });
    expect(find(entries, 'AT')).toMatchObject({ dir: 'tx', kind: 'command' });
  });

  it('espat_13: STATUS:5 means the join never completed; garbage is noise; ready is a boot', async () => {
    const { entries } = await decode('espat_13');
    expect(find(entries, 'STATUS:5')?.meaning).toMatch(/not connected/);
    expect(find(entries, 'ready')).toMatchObject({ kind: 'urc', reboot: true });
  });

  it('espat_15: mbed AT>/AT< markers; ROM boot text after AT+RST with the reset cause', async () => {
    const { entries } = await decode('espat_15');
    expect(find(entries, 'AT+RST')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, /rst cause:1/)).toMatchObject({ kind: 'urc', reboot: true, meaning: 'power-on reset' });
    expect(find(entries, 'WIFI DISCONNECT')).toMatchObject({ kind: 'urc' });
  });

  it('espat_28: » / « markers, MQTTCONN refused with +MQTTDISCONNECTED then ERROR', async () => {
    const { entries } = await decode('espat_28');
    const conn = entries.find((e) => e.kind === 'command' && e.text.startsWith('AT+MQTTCONN=0'));
    expect(conn?.dir).toBe('tx');
    expect(find(entries, '+MQTTDISCONNECTED:0')).toMatchObject({ kind: 'urc' });
  });

  it('espat_03: TX:/RX: markers with (\\r)(\\n); SEND OK then SEND FAIL', async () => {
    const { entries } = await decode('espat_03');
    expect(find(entries, 'AT+CIPSEND=0,104')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(find(entries, 'SEND FAIL')).toMatchObject({ kind: 'urc', urc: { event: 'send-fail' } });
  });

  it('espat_24: ROM text after AT+RST, busy now, no change', async () => {
    const { entries } = await decode('espat_24');
    expect(find(entries, 'busy now ...')).toMatchObject({ kind: 'busy' });
    expect(find(entries, 'no change')).toMatchObject({ kind: 'final' });
    expect(find(entries, /rst cause:4/)?.meaning).toBe('hardware watchdog reset');
  });

  it('espat_31: ERR CODE explained from the subcategory table', async () => {
    const { entries } = await decode('espat_31');
    expect(find(entries, '+CWMODE:0')?.meaning).toBe('Wi-Fi off');
    expect(find(entries, 'ERR CODE:0x010a0000')?.meaning).toBeDefined();
  });

  it('espat_22: timestamps give round trips; ATE0 echoed once', async () => {
    const { entries } = await decode('espat_22');
    const ok = entries.find((e) => e.kind === 'final' && e.command === 'ATE0');
    expect(ok?.rttMs).toBeGreaterThanOrEqual(0);
    expect(find(entries, 'ATE0')).toMatchObject({ dir: 'tx', kind: 'command' });
    expect(entries.some((e) => e.kind === 'echo' && e.text === 'ATE0')).toBe(true);
  });
});
