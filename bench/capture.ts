import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { TRACE_VERSION, toRecord, type TraceEvent } from '../src/trace/events.js';

/**
 * Writes a synthetic JSONL capture of about `targetBytes`: a SIM7600 command-mode MQTT session
 * (AT+CIPSEND with prompt and confirmation, +IPD pushes with binary MQTT inside, the odd CSQ
 * poll and state note), the mix a long field capture holds. Returns the size written.
 */
export async function writeCapture(path: string, targetBytes: number): Promise<{ bytes: number; events: number }> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const header = { type: 'atbridge-trace', version: TRACE_VERSION, tool: 'atbridge-bench', start: new Date(0).toISOString(), profile: 'sim7600', baud: 115200, device: 'emu:sim7600' };
  let bytes = 0;
  let events = 0;
  let t = 0;
  let parts: string[] = [];
  let pending = 0;
  const emit = (dir: TraceEvent['dir'], data: Buffer) => {
    t += 1.7;
    const line = JSON.stringify(toRecord({ t, dir, data })) + '\n';
    parts.push(line);
    pending += line.length;
    events++;
  };
  const flush = async () => {
    const chunk = parts.join('');
    parts = [];
    bytes += chunk.length;
    pending = 0;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  parts.push(JSON.stringify(header) + '\n');
  const topic = Buffer.from('gw/pi-01/temp');
  for (let seq = 0; bytes + pending < targetBytes; seq++) {
    // A coalesced send of a few QoS 1 publishes.
    const n = 1 + (seq % 12);
    const packets: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const payload = Buffer.from(`{"t":${(20 + ((seq * 7 + i) % 90) / 10).toFixed(1)},"seq":${seq * 16 + i},"ok":true,"pad":"${'x'.repeat(20)}"}`);
      const id = (seq * 16 + i) % 65535 + 1;
      const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([id >> 8, id & 0xff]), payload]);
      packets.push(Buffer.concat([Buffer.from([0x32, body.length]), body]));
    }
    const data = Buffer.concat(packets);
    emit('tx', Buffer.from(`AT+CIPSEND=0,${data.length}\r`, 'latin1'));
    emit('rx', Buffer.from('\r\n>', 'latin1'));
    emit('tx', data);
    emit('rx', Buffer.from(`\r\nOK\r\n\r\n+CIPSEND: 0,${data.length},${data.length}\r\n`, 'latin1'));
    // PUBACKs pushed back, some split across reads as a UART delivers them.
    const acks = Buffer.concat(packets.map((_, i) => Buffer.from([0x40, 0x02, 0, ((seq * 16 + i) % 65535 + 1) & 0xff])));
    const ipd = Buffer.concat([Buffer.from(`\r\n+IPD${acks.length}\r\n`, 'latin1'), acks]);
    const cut = seq % 3 === 0 ? Math.floor(ipd.length / 2) : ipd.length;
    emit('rx', ipd.subarray(0, cut));
    if (cut < ipd.length) emit('rx', ipd.subarray(cut));
    if (seq % 50 === 0) {
      emit('tx', Buffer.from('AT+CSQ\r', 'latin1'));
      emit('rx', Buffer.from('\r\n+CSQ: 21,99\r\n\r\nOK\r\n', 'latin1'));
    }
    if (seq % 500 === 0) {
      parts.push(JSON.stringify(toRecord({ t, dir: 'note', data: Buffer.from('state socket-command → socket-command: keepalive'), fields: { state: 'socket-command' } })) + '\n');
    }
    if (pending >= 1 << 20) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { bytes, events };
}
