import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, CLI, cliBuilt, killAll, run, start, messageLines, subscriber } from './cli-support.js';
import { uniqueId, until } from './support.js';

let broker: Mosquitto;
let dir: string;
beforeAll(async () => {
  broker = await startMosquitto({ tls: true, persistence: false });
  dir = mkdtempSync(join(tmpdir(), 'atbridge-device-'));
});
afterAll(async () => {
  killAll();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte the host sent to the module, from a --trace file. */
function sentToModule(traceFile: string): Buffer {
  const records = readFileSync(traceFile, 'utf8').split('\n').filter(Boolean).slice(1);
  const bytes = records
    .map((l) => JSON.parse(l) as { dir: string; data: string; enc?: string })
    .filter((r) => r.dir === 'tx')
    .map((r) => (r.enc === 'base64' ? Buffer.from(r.data, 'base64') : Buffer.from(r.data, 'latin1')));
  return Buffer.concat(bytes);
}

describe.runIf(cliBuilt())('pub and sub through an emulated module', () => {
  it('TLS runs on the host: the module carries only ciphertext, and the message arrives', async () => {
    const topic = `tunnel/${uniqueId()}`;
    const watcher = await subscriber('mosquitto', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-C', '2']);
    const plainTrace = join(dir, 'plain.jsonl');
    const tlsTrace = join(dir, 'tls.jsonl');
    const device = ['--device', 'emu:sim7600?pacing=0'];
    const plain = await atbridge(['pub', ...device, '--trace', plainTrace, '-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-m', 'plain-payload-123', '-q', '1', '-u', 'someone', '-P', 'hunter2-secret']);
    expect(plain).toMatchObject({ code: 0 });
    const tls = await atbridge(['pub', ...device, '--trace', tlsTrace, '-h', 'localhost', '-p', String(broker.tlsPort), '--cafile', broker.certs!.caFile, '-t', topic, '-m', 'tunnel-payload-456', '-q', '1']);
    expect(tls).toMatchObject({ code: 0 });
    expect(await watcher.exited).toBe(0);
    expect(messageLines(watcher.stdout())).toEqual(['plain-payload-123', 'tunnel-payload-456']);
    expect(sentToModule(plainTrace).includes('plain-payload-123')).toBe(true); // the check can see plaintext
    expect(sentToModule(plainTrace).includes('hunter2-secret')).toBe(false); // the MQTT password is masked
    expect(sentToModule(tlsTrace).includes('tunnel-payload-456')).toBe(false);
  });

  it('atbridge sub through an ESP-AT module receives mosquitto_pub messages at QoS 0, 1 and 2', async () => {
    const topic = `esp/${uniqueId()}`;
    const sub = start(process.execPath, [
      CLI, 'sub',
      '--device', 'emu:esp-at?ssid=lab&password=pw&pacing=0', '--wifi-ssid', 'lab', '--wifi-password', 'pw',
      '-h', '127.0.0.1', '-p', String(broker.port), '-t', `${topic}/#`, '-q', '2', '-v', '-C', '3', '-d',
    ]);
    await until(() => sub.stdout().includes('SUBACK'), `the subscription (${sub.stderr()})`);
    for (const qos of ['0', '1', '2']) await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', `${topic}/q${qos}`, '-m', `at qos ${qos}`, '-q', qos]);
    expect(await sub.exited).toBe(0);
    expect(messageLines(sub.stdout()).filter((l) => !l.startsWith('modem:'))).toEqual([`${topic}/q0 at qos 0`, `${topic}/q1 at qos 1`, `${topic}/q2 at qos 2`]);
    expect(sub.stdout()).toMatch(/modem: /); // -d shows the modem steps too
  });
});
