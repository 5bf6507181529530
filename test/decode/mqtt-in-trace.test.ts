import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { toRecord, type TraceEvent } from '../../src/trace/events.js';
import { decodeAll, tempFile } from './helpers.js';

const gen = (p: Parameters<typeof mqttPacket.generate>[0], opts?: Parameters<typeof mqttPacket.generate>[1]) => mqttPacket.generate(p, opts);
const latin = (s: string) => Buffer.from(s, 'latin1');

/** A JSONL trace as our TraceWriter writes it, the MQTT inside made by mqtt-packet itself. */
function trace(events: TraceEvent[], profile: string): string {
  const header = { type: 'atbridge-trace', version: 1, tool: 'test', start: '2024-01-01T00:00:00Z', profile };
  return [JSON.stringify(header), ...events.map((e) => JSON.stringify(toRecord(e)))].join('\n') + '\n';
}

describe('MQTT decoded from socket data in a JSONL trace', () => {
  it('ESP-AT: CIPSEND payloads after > and +IPD blocks (split across reads)', async () => {
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gw-1', clean: true, keepalive: 60 });
    const connack = gen({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    const publish = gen({ cmd: 'publish', topic: 'site/temp', payload: Buffer.from('21.5'), qos: 1, messageId: 7, retain: false, dup: false });
    const puback = gen({ cmd: 'puback', messageId: 7 });
    const ipd = Buffer.concat([latin(`\r\n+IPD,0,${connack.length + puback.length}:`), connack, puback]);
    const events: TraceEvent[] = [
      { t: 0, dir: 'tx', data: latin(`AT+CIPSEND=0,${connect.length}\r\n`) },
      { t: 5, dir: 'rx', data: latin('\r\nOK\r\n\r\n> ') },
      { t: 6, dir: 'tx', data: connect },
      { t: 20, dir: 'rx', data: latin(`\r\nRecv ${connect.length} bytes\r\n\r\nSEND OK\r\n`) },
      { t: 60, dir: 'rx', data: ipd.subarray(0, 12) },
      { t: 61, dir: 'rx', data: ipd.subarray(12) },
      { t: 70, dir: 'tx', data: latin(`AT+CIPSEND=0,${publish.length}\r\n`) },
      { t: 72, dir: 'rx', data: latin('\r\nOK\r\n\r\n> ') },
      { t: 73, dir: 'tx', data: publish },
      { t: 80, dir: 'rx', data: latin('\r\nSEND OK\r\n') },
    ];
    const { entries } = await decodeAll(tempFile('esp.jsonl', trace(events, 'esp-at')));
    const mqtt = entries.flatMap((e) => (e.mqtt ?? []).map((p) => ({ dir: e.dir, ...p })));
    expect(mqtt.map((p) => `${p.dir} ${p.type}`)).toEqual(['tx CONNECT', 'rx CONNACK', 'rx PUBACK', 'tx PUBLISH']);
    expect(mqtt[0]).toMatchObject({ clientId: 'gw-1' });
    expect(mqtt[1]).toMatchObject({ code: 0 });
    expect(mqtt[3]).toMatchObject({ topic: 'site/temp', qos: 1, packetId: 7, payloadPreview: '21.5', payloadBytes: 4 });
    const sendOk = entries.find((e) => e.text === 'OK' && e.command?.startsWith('AT+CIPSEND'));
    expect(sendOk?.rttMs).toBe(5);
    expect(entries.find((e) => e.socket?.via === 'push')).toMatchObject({ socket: { link: '0', bytes: connack.length + puback.length, header: expect.stringMatching(/^\+IPD,0,/) } });
  });

  it('SIM7600: +IPD<n> blocks on their own line, CIPRXGET reads, and MQTT 5', async () => {
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'cell-1', clean: true, keepalive: 30, properties: { sessionExpiryInterval: 60 } });
    const connack = gen({ cmd: 'connack', reasonCode: 0, sessionPresent: false, protocolVersion: 5, properties: {} } as Parameters<typeof mqttPacket.generate>[0], { protocolVersion: 5 });
    const suback = gen({ cmd: 'suback', messageId: 1, granted: [1], properties: {} } as Parameters<typeof mqttPacket.generate>[0], { protocolVersion: 5 });
    const events: TraceEvent[] = [
      { t: 0, dir: 'tx', data: latin(`AT+CIPSEND=0,${connect.length}\r`) },
      { t: 3, dir: 'rx', data: latin('\r\n>') },
      { t: 4, dir: 'tx', data: connect },
      { t: 9, dir: 'rx', data: latin(`\r\nOK\r\n\r\n+CIPSEND: 0,${connect.length},${connect.length}\r\n`) },
      { t: 50, dir: 'rx', data: Buffer.concat([latin(`\r\n+IPD${connack.length}\r\n`), connack]) },
      { t: 60, dir: 'tx', data: latin('AT+CIPRXGET=2,0,1460\r') },
      { t: 62, dir: 'rx', data: Buffer.concat([latin(`\r\n+CIPRXGET: 2,0,${suback.length},0\r\n`), suback, latin('\r\nOK\r\n')]) },
    ];
    const { entries } = await decodeAll(tempFile('sim.jsonl', trace(events, 'sim7600')));
    const mqtt = entries.flatMap((e) => (e.mqtt ?? []).map((p) => `${e.dir} ${p.type} ${e.socket?.via}`));
    expect(mqtt).toEqual(['tx CONNECT send', 'rx CONNACK push', 'rx SUBACK read']);
    expect(entries.find((e) => e.text.startsWith('+CIPSEND:'))).toMatchObject({ kind: 'urc' });
    expect(entries.filter((e) => e.kind === 'final').map((e) => e.outcome)).toEqual(['ok', 'ok']);
  });

  it('a data-mode open answered OK, then CONNECT (SIM7080 CASWITCH, SIM800 CIPSTART in CIPMODE=1): socket data from the CONNECT on, no state notes needed', async () => {
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gw-2', clean: true, keepalive: 60 });
    const connack = gen({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    for (const [profile, open] of [['sim7080', 'AT+CASWITCH=0,1'], ['sim800', 'AT+CIPSTART="TCP","10.0.0.1",1883']] as const) {
      const events: TraceEvent[] = [
        { t: 0, dir: 'tx', data: latin(`${open}\r`) },
        { t: 2, dir: 'rx', data: latin('\r\nOK\r\n') },
        { t: 40, dir: 'rx', data: latin('\r\nCONNECT\r\n') },
        { t: 41, dir: 'tx', data: connect },
        { t: 60, dir: 'rx', data: connack },
      ];
      const { entries } = await decodeAll(tempFile(`${profile}.jsonl`, trace(events, profile)));
      expect(entries.find((e) => e.text === 'CONNECT')).toMatchObject({ kind: 'final', outcome: 'connect' });
      const mqtt = entries.flatMap((e) => (e.mqtt ?? []).map((p) => `${e.dir} ${p.type} ${e.socket?.via}`));
      expect(mqtt).toEqual(['tx CONNECT transparent', 'rx CONNACK transparent']);
    }
  });

  it('HTTP through the socket is shown as data, not mistaken for MQTT', async () => {
    const events: TraceEvent[] = [{ t: 0, dir: 'rx', data: latin('\r\n+IPD,0,18:GET / HTTP/1.1\r\n\r\n') }];
    const { entries } = await decodeAll(tempFile('http.jsonl', trace(events, 'esp-at')));
    const data = entries.find((e) => e.kind === 'data');
    expect(data?.socket?.bytes).toBe(18);
    expect(data?.mqtt).toBeUndefined();
  });
});

describe('a CONNECT password in socket data', () => {
  it('is masked where decode shows the bytes (a foreign capture was never redacted)', async () => {
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', username: 'u', password: Buffer.from('s3cret-pw'), clean: true, keepalive: 60 });
    const events: TraceEvent[] = [
      { t: 0, dir: 'tx', data: latin(`AT+CIPSEND=0,${connect.length}\r\n`) },
      { t: 5, dir: 'rx', data: latin('\r\nOK\r\n\r\n> ') },
      { t: 6, dir: 'tx', data: connect },
      { t: 20, dir: 'rx', data: latin(`\r\nRecv ${connect.length} bytes\r\n\r\nSEND OK\r\n`) },
    ];
    const { entries } = await decodeAll(tempFile('pw.jsonl', trace(events, 'esp-at')));
    const data = entries.find((e) => e.mqtt?.[0]?.type === 'CONNECT')!;
    expect(data.text).toContain('*********');
    expect(JSON.stringify(entries)).not.toContain('s3cret-pw');
  });
});
