import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { toRecord, type TraceEvent } from '../../src/trace/events.js';

/**
 * Writes a JSONL trace of about `bytes` bytes: an ESP-AT session repeating CIPSEND of an MQTT
 * PUBLISH, the broker's PUBACK in +IPD blocks, polls and URCs. For the constant-memory test and
 * the decode benchmark.
 */
export async function generateTrace(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  let written = 0;
  const header = { type: 'atbridge-trace', version: 1, tool: 'generator', start: '2024-01-01T00:00:00Z', profile: 'esp-at' };
  await write(`${JSON.stringify(header)}\n`);
  const latin = (s: string) => Buffer.from(s, 'latin1');
  let t = 0;
  let id = 1;
  const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'bench', clean: true, keepalive: 60 });
  const first: TraceEvent[] = [
    { t: t++, dir: 'tx', data: latin(`AT+CIPSEND=0,${connect.length}\r\n`) },
    { t: t++, dir: 'rx', data: latin('\r\nOK\r\n\r\n> ') },
    { t: t++, dir: 'tx', data: connect },
    { t: t++, dir: 'rx', data: Buffer.concat([latin('\r\nSEND OK\r\n\r\n+IPD,0,4:'), mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false })]) },
  ];
  for (const e of first) await write(`${JSON.stringify(toRecord(e))}\n`);
  while (written < bytes) {
    const messageId = (id++ % 65535) + 1;
    const publish = mqttPacket.generate({ cmd: 'publish', topic: 'bench/temp', payload: Buffer.from(`{"n":${id},"v":21.5}`), qos: 1, messageId, retain: false, dup: false });
    const puback = mqttPacket.generate({ cmd: 'puback', messageId });
    const events: TraceEvent[] = [
      { t: (t += 3), dir: 'tx', data: latin(`AT+CIPSEND=0,${publish.length}\r\n`) },
      { t: (t += 2), dir: 'rx', data: latin('\r\nOK\r\n\r\n> ') },
      { t: (t += 1), dir: 'tx', data: publish },
      { t: (t += 9), dir: 'rx', data: latin(`\r\nRecv ${publish.length} bytes\r\n\r\nSEND OK\r\n`) },
      { t: (t += 30), dir: 'rx', data: Buffer.concat([latin(`\r\n+IPD,0,${puback.length}:`), puback]) },
      { t: (t += 5), dir: 'tx', data: latin('AT+CIPSTATUS\r\n') },
      { t: (t += 4), dir: 'rx', data: latin('\r\nSTATUS:3\r\n+CIPSTATUS:0,"TCP","10.0.0.2",1883,50000,0\r\n\r\nOK\r\n') },
    ];
    for (const e of events) {
      const line = `${JSON.stringify(toRecord(e))}\n`;
      written += line.length;
      await write(line);
    }
  }
  out.end();
  await once(out, 'finish');
  return written;
}
