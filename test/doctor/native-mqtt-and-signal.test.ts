import { describe, expect, it } from 'vitest';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import type { TraceEvent } from '../../src/trace/events.js';

const tx = (s: string): TraceEvent => ({ t: undefined, dir: 'tx', data: Buffer.from(`${s}\r`) });
const rx = (s: string): TraceEvent => ({ t: undefined, dir: 'rx', data: Buffer.from(`\r\n${s}\r\n`) });

async function found(events: TraceEvent[], profile: string) {
  const a = await analyzeEvents(events, { profile });
  return a.findings;
}

/** Sessions as the Quectel EC2x/BG96 MQTT Application Note and the SIM7080 MQTT(S) Application Note show them. */
describe('module-native MQTT of Quectel (AT+QMT*) and SIM7080 (AT+SM*)', () => {
  const open = [tx('AT+QMTOPEN=0,"broker.example.com",1883'), rx('OK'), rx('+QMTOPEN: 0,0'), tx('AT+QMTCONN=0,"client1"'), rx('OK')];

  it('+QMTSTAT: 0,1 after a connect is the broker hanging up (peer-closed), not a failed client', async () => {
    const ids = (await found([...open, rx('+QMTCONN: 0,0,0'), tx('AT+QMTSUB=0,1,"t",1'), rx('OK'), rx('+QMTSUB: 0,1,0,1'), rx('+QMTSTAT: 0,1')], 'quectel')).map((f) => f.id);
    expect(ids).toContain('peer-closed');
    expect(ids).not.toContain('mqtt-service-failed');
  });

  it('+QMTSTAT: 0,2 is an unanswered PINGREQ (keepalive-timeout)', async () => {
    const ids = (await found([...open, rx('+QMTCONN: 0,0,0'), rx('+QMTSTAT: 0,2')], 'quectel')).map((f) => f.id);
    expect(ids).toContain('keepalive-timeout');
    expect(ids).not.toContain('mqtt-service-failed');
  });

  it('a CONNACK refusal (+QMTCONN: 0,0,4) is mqtt-connect-refused with its meaning; +QMTOPEN: 0,3 is a network fault', async () => {
    const refused = await found([...open, rx('+QMTCONN: 0,0,4')], 'quectel');
    expect(refused.find((f) => f.id === 'mqtt-connect-refused')?.summary).toMatch(/bad user name or password/);
    const network = await found([tx('AT+QMTOPEN=0,"broker.example.com",1883'), rx('OK'), rx('+QMTOPEN: 0,3')], 'quectel');
    const f = network.find((x) => x.id === 'mqtt-service-failed');
    expect(f?.summary).toMatch(/failed to activate PDP; a network fault/);
    expect(network.map((x) => x.id)).not.toContain('mqtt-connect-refused');
  });

  it('the broker dropping a Quectel session right after it was accepted, twice: client-id-conflict', async () => {
    const at = (s: TraceEvent, t: number): TraceEvent => ({ ...s, t });
    const ids = (await found([
      ...open.map((e, i) => at(e, i * 100)), at(rx('+QMTCONN: 0,0,0'), 1000), at(rx('+QMTSTAT: 0,1'), 1500),
      ...open.map((e, i) => at(e, 3000 + i * 100)), at(rx('+QMTCONN: 0,0,0'), 4000), at(rx('+QMTSTAT: 0,1'), 4600),
    ], 'quectel')).map((f) => f.id);
    expect(ids).toContain('client-id-conflict');
  });

  it('SIM7080: AT+SMCONN answered ERROR is mqtt-service-failed (the manual gives no code), not command-rejected', async () => {
    const failed = await found([tx('AT+SMCONF="URL","broker.example.com",1883'), rx('OK'), tx('AT+SMCONN'), rx('ERROR')], 'sim7080');
    expect(failed.map((f) => f.id)).toContain('mqtt-service-failed');
    expect(failed.map((f) => f.id)).not.toContain('command-rejected');
  });
});

describe('+CSQ: 99 (TS 27.007 §8.5: not known or not detectable)', () => {
  const at = (e: TraceEvent, t: number): TraceEvent => ({ ...e, t });
  it('once right after power-on is a module that has not measured yet; once a minute or more into the log, no signal', async () => {
    const early = [at(tx('AT+CSQ'), 0), at(rx('+CSQ: 99,99'), 10), at(rx('OK'), 11)];
    expect((await found(early, 'sim7600')).map((f) => f.id)).not.toContain('no-signal');
    const late = [at(tx('AT+CPIN?'), 0), at(rx('+CPIN: READY'), 10), at(rx('OK'), 11), at(tx('AT+CSQ'), 90_000), at(rx('+CSQ: 99,99'), 90_010), at(rx('OK'), 90_011)];
    expect((await found(late, 'sim7600')).map((f) => f.id)).toContain('no-signal');
  });
});
