import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqttPacket, { type IConnectPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../src/profile/index.js';
import { openPtyEnd, type PtyEnd } from '../../src/replay/pty-end.js';
import { ReplayModule, type Divergence } from '../../src/replay/replay-module.js';
import { resend } from '../../src/replay/resend.js';
import { buildScript, stepLabel } from '../../src/replay/script.js';
import { formatSideBySide, sideBySide } from '../../src/replay/side-by-side.js';
import { openCapture } from '../../src/trace/import/index.js';
import { openDevice } from '../../src/transport/open-device.js';
import { SerialLink } from '../../src/transport/serial-link.js';

const LOGS = new URL('../../fixtures/logs/', import.meta.url).pathname;

/** Writes an atbridge JSONL trace of these events (strings as text, buffers as base64). */
function traceFile(events: ['tx' | 'rx', string | Buffer][]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'atb-replay-')), 'session.jsonl');
  const header = { type: 'atbridge-trace', version: 1, tool: 'atbridge 0.1.0', start: '2026-11-23T00:00:00.000Z', profile: 'sim7600', redacted: true };
  const lines = events.map(([dir, data], i) =>
    JSON.stringify(typeof data === 'string' ? { t: i * 10, dir, data } : { t: i * 10, dir, data: data.toString('base64'), enc: 'base64' }),
  );
  writeFileSync(path, [JSON.stringify(header), ...lines, ''].join('\n'));
  return path;
}

function connect(fields: Partial<IConnectPacket>): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: '', ...fields } as IConnectPacket);
}

const PUBLISH = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, dup: false, retain: false });
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** A recorded `pub` session: CONNECT (this client id) then one PUBLISH, each with AT+CIPSEND. */
function pubTrace(recorded: Buffer): string {
  return traceFile([
    ['tx', `AT+CIPSEND=0,${recorded.length}\r`],
    ['rx', '\r\n>'],
    ['tx', recorded],
    ['rx', '\r\nOK\r\n'],
    ['rx', Buffer.concat([Buffer.from('\r\n+IPD4\r\n'), CONNACK])],
    ['rx', `\r\n+CIPSEND: 0,${recorded.length},${recorded.length}\r\n`],
    ['tx', `AT+CIPSEND=0,${PUBLISH.length}\r`],
    ['rx', '\r\n>'],
    ['tx', PUBLISH],
    ['rx', `\r\nOK\r\n\r\n+CIPSEND: 0,${PUBLISH.length},${PUBLISH.length}\r\n`],
  ]);
}

/** Plays a live host's bytes into a replay of `path`; what it reported and what it answered. */
async function playHost(path: string, host: Buffer[]) {
  const { script } = await scriptOf(path);
  const written: Buffer[] = [];
  const module = new ReplayModule(script, (d) => written.push(d), { speed: 0 });
  const seen: string[] = [];
  module.on('match', (step: number) => seen.push(`match ${step}`));
  module.on('diverge', (d: Divergence) => seen.push(`${d.kind} ${d.step}`));
  module.start();
  for (const chunk of host) {
    module.input(chunk);
    await new Promise((r) => setTimeout(r, 5));
  }
  module.close();
  return { seen, written: Buffer.concat(written).toString('latin1'), finished: module.finished };
}

async function scriptOf(path: string) {
  const capture = await openCapture(path);
  const profile = getProfile(capture.profile);
  return { script: await buildScript(capture.events, profile, capture.perLine), profile };
}

/** Reads from the host's end until `pattern` shows up in what arrived. */
function readUntil(link: SerialLink, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const on = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (pattern.test(got)) {
        link.off('data', on);
        resolve(got);
      }
    };
    link.on('data', on);
  });
}

describe('replay script from a recording', () => {
  it('splits the host steps and the answers (echo-on transcript, sim7600_18)', async () => {
    const { script } = await scriptOf(`${LOGS}sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt`);
    expect(script.steps.map((s) => s.text)).toEqual(['AT', 'AT+CPIN?', 'AT+CMEE=1', 'AT+CMEE=2', 'AT+CPIN?']);
    expect(Buffer.concat(script.steps[4]!.replies.map((r) => r.data)).toString('latin1')).toContain('+CME ERROR: SIM not inserted');
  });
});

describe('replay and passwords', () => {
  it('shows a pasted password masked, resends the recorded bytes, and matches a live host against a masked recording', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'atb-replay-')), 'join.txt');
    writeFileSync(path, 'AT+CWJAP="lab","hunter22"\nWIFI CONNECTED\nWIFI GOT IP\nOK\n');
    const { script } = await scriptOf(path);
    expect(script.steps[0]).toMatchObject({ kind: 'command', text: 'AT+CWJAP="lab","********"' });
    expect(script.steps[0]!.host.toString('latin1')).toBe('AT+CWJAP="lab","hunter22"');
    // Our own traces are masked when written: the live host's real password still matches.
    const module = new ReplayModule(script, () => undefined, { speed: 0 });
    const seen: string[] = [];
    module.on('match', (step: number) => seen.push(`match ${step}`));
    module.on('diverge', (d: Divergence) => seen.push(`${d.kind} ${d.got}`));
    module.start();
    module.input(Buffer.from('AT+CWJAP="lab","other-secret"\r\n'));
    module.input(Buffer.from('AT+CWJAP="elsewhere","other-secret"\r\n'));
    expect(seen).toEqual(['match 1', 'unexpected AT+CWJAP="elsewhere","********"']);
    module.close();
  });
});

describe('replay --emulate over a real socat pty (serialport on both ends)', () => {
  let end: PtyEnd | undefined;
  let host: SerialLink | undefined;
  afterEach(async () => {
    await host?.close().catch(() => undefined);
    await end?.close();
  });

  it('answers the recorded answers in order and reports where the host goes its own way', async () => {
    const { script } = await scriptOf(`${LOGS}sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt`);
    const path = join(mkdtempSync(join(tmpdir(), 'atb-replay-')), 'ttyREC');
    end = await openPtyEnd(path, 115200);
    const module = new ReplayModule(script, (d) => void end!.link.write(d), { speed: 0 });
    const divergences: Divergence[] = [];
    module.on('diverge', (d: Divergence) => divergences.push(d));
    end.link.on('data', (c) => module.input(c));
    module.start();
    host = await SerialLink.open({ path, baud: 115200 });

    let answer = readUntil(host, /OK\r\n/);
    await host.write(Buffer.from('AT\r'));
    expect(await answer).toMatch(/OK/);
    answer = readUntil(host, /ERROR\r\n/);
    await host.write(Buffer.from('AT+CPIN?\r'));
    expect(await answer).toMatch(/ERROR/);
    // The host skips both CMEE commands: the replay jumps ahead and says what was skipped.
    answer = readUntil(host, /SIM not inserted/);
    await host.write(Buffer.from('AT+CPIN?\r'));
    expect(await answer).toContain('+CME ERROR: SIM not inserted');
    expect(divergences.map((d) => `${d.kind} ${d.expected}`)).toEqual(['skipped AT+CMEE=1', 'skipped AT+CMEE=2']);
    // Something the recording never had.
    answer = readUntil(host, /ERROR\r\n/);
    await host.write(Buffer.from('AT+CSQ\r'));
    await answer;
    expect(divergences.at(-1)).toMatchObject({ kind: 'unexpected', got: 'AT+CSQ' });
    expect(module.finished).toBe(true);
    module.close();
  });
});

describe('replay --to an emulated module', () => {
  it('resends the host side and gets answers to put next to the recorded ones', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'atb-replay-')), 'session.txt');
    writeFileSync(path, 'AT\nOK\nAT+CPIN?\n+CME ERROR: 10\nAT+CSQ\n+CSQ: 5,99\nOK\n');
    const { script, profile } = await scriptOf(path);
    const device = await openDevice('emu:sim7600?pacing=0&boot=0', { baud: 115200 });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const { answers } = await resend(script, device.link, profile, { settleMs: 20 });
      const rows = sideBySide(script, answers);
      expect(rows.map((r) => r.host)).toEqual(['AT', 'AT+CPIN?', 'AT+CSQ']);
      expect(rows[0]).toMatchObject({ same: true });
      // The emulated SIM is present: the recorded CME 10 is not what the module says now.
      expect(rows[1]).toMatchObject({ same: false, recorded: expect.stringContaining('SIM not inserted') });
      expect(rows[2]!.now).toMatch(/\+CSQ: \d+,\d+ \| OK/);
    } finally {
      await device.close();
    }
  });
});

describe('replay --to: which steps count as answered differently', () => {
  // The same host steps, recorded and now: only the module's answers differ.
  const session = (answers: { csq: string; open: string; payload: Buffer; close: string; data: Buffer }) =>
    traceFile([
      ['tx', 'AT+CSQ\r'],
      ['rx', `\r\n+CSQ: ${answers.csq}\r\n\r\nOK\r\n`],
      ['tx', 'AT+CIPOPEN=0,"TCP","broker",1883\r'],
      ['rx', `\r\nOK\r\n\r\n+CIPOPEN: ${answers.open}\r\n`],
      ['tx', 'AT+CIPSEND=0,2\r'],
      ['rx', '\r\n>'],
      ['tx', Buffer.from([0xe0, 0x00])],
      ['rx', answers.payload],
      ['tx', 'AT+CIPCLOSE=0\r'],
      ['rx', answers.close],
      ['tx', 'AT+CIPSEND=0,4\r'],
      ['rx', '\r\n>'],
      ['tx', Buffer.from([0xc0, 0x00, 0xc0, 0x00])],
      ['rx', answers.data],
    ]);

  it('other final results, missing or extra lines, URC names and URC result codes differ; other values are shown, not counted', async () => {
    const recorded = await scriptOf(
      session({
        csq: '20,99',
        open: '0,0',
        payload: Buffer.from('\r\nOK\r\n\r\n+IPCLOSE: 0,1\r\n'),
        close: '\r\n+IPCLOSE: 0,1\r\n',
        data: Buffer.concat([Buffer.from('\r\nOK\r\n\r\n+IPD2\r\n'), Buffer.from([0xd0, 0x00])]),
      }),
    );
    const now = await scriptOf(
      session({ csq: '11,99', open: '0,1', payload: Buffer.from('\r\nOK\r\n\r\n+CIPSEND: 0,2,2\r\n'), close: '', data: Buffer.from('\r\nOK\r\n') }),
    );
    const rows = sideBySide(recorded.script, now.script.steps.map((s) => s.answer));
    expect(rows.map((r) => [r.recorded, r.now, r.same])).toEqual([
      ['+CSQ: 20,99 | OK', '+CSQ: 11,99 | OK', true],
      ['OK | +CIPOPEN: 0,0', 'OK | +CIPOPEN: 0,1', false],
      ['>', '>', true],
      ['OK | +IPCLOSE: 0,1', 'OK | +CIPSEND: 0,2,2', false],
      ['+IPCLOSE: 0,1', '(nothing)', false],
      ['>', '>', true],
      ['OK | [2 B]', 'OK', false],
    ]);
    const marks = formatSideBySide(rows)
      .split('\n')
      .slice(1)
      .map((l) => l[0]);
    expect(marks).toEqual(['~', '✗', ' ', '✗', '✗', ' ', '✗']);
  });

  it('a step answered with other lines makes the run exit 1 (CLI)', async () => {
    // Step 1 also gets the emulator's boot banner; step 2 is the one to look at.
    const path = traceFile([
      ['tx', 'AT\r'],
      ['rx', '\r\nOK\r\n'],
      ['tx', 'AT\r'],
      ['rx', '\r\nOK\r\n\r\n+IPCLOSE: 0,1\r\n'],
    ]);
    const result = await promisify(execFile)(process.execPath, ['dist/src/cli.js', 'replay', path, '--to', 'emu:sim7600?pacing=0&boot=0'], {
      env: { ...process.env, NO_COLOR: '1' },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(result.stdout).toMatch(/^✗ 2 AT +OK \| \+IPCLOSE: 0,1 +OK$/m);
    expect(result.code).toBe(1);
  });
});

describe('replay --emulate and payload steps', () => {
  it('names payload steps with escaped, shortened text', async () => {
    const { script } = await scriptOf(pubTrace(connect({ clientId: 'atbridge-pub-1050' })));
    expect(stepLabel(script.steps[3]!)).toBe('[12 B] 0\\n\\x00\\x03a/bhello');
    const label = stepLabel(script.steps[1]!);
    expect(label).toMatch(/^\[31 B\] \\x10\\x1d\\x00\\x04MQTT/);
    expect(label.length).toBeLessThanOrEqual(48);
    expect(label).not.toMatch(/[^\x20-\x7e…]/);
    // A skipped payload is named the same way, never as raw bytes.
    const module = new ReplayModule(script, () => undefined, { speed: 0 });
    const skipped: Divergence[] = [];
    module.on('diverge', (d: Divergence) => skipped.push(d));
    module.start();
    module.input(Buffer.from(`AT+CIPSEND=0,${PUBLISH.length}\r`));
    module.close();
    expect(skipped.map((d) => d.expected)).toEqual(['AT+CIPSEND=0,31', label]);
  });

  it('a CONNECT with a made-up client id matches another made-up one, of another length, and the send is confirmed with its length', async () => {
    const recorded = connect({ clientId: 'atbridge-pub-1050', username: 'u', password: Buffer.from('******') });
    const live = connect({ clientId: 'atbridge-pub-4194301', username: 'u', password: Buffer.from('secret') });
    const { seen, written, finished } = await playHost(pubTrace(recorded), [
      Buffer.from(`AT+CIPSEND=0,${live.length}\r`),
      live.subarray(0, 3),
      live.subarray(3),
      Buffer.from(`AT+CIPSEND=0,${PUBLISH.length}\r`),
      PUBLISH,
    ]);
    expect(seen).toEqual(['match 1', 'match 2', 'match 3', 'match 4']);
    expect(finished).toBe(true);
    expect(written).toContain(`+CIPSEND: 0,${live.length},${live.length}`);
    // mosquitto's made-up ids too.
    const mosq = await playHost(pubTrace(connect({ clientId: 'mosq-Ab12Cd34Ef56Gh78' })), [
      Buffer.from(`AT+CIPSEND=0,${connect({ clientId: 'mosq-Zz99Yy88Xx77Ww66' }).length}\r`),
      connect({ clientId: 'mosq-Zz99Yy88Xx77Ww66' }),
    ]);
    expect(mosq.seen).toEqual(['match 1', 'match 2']);
  });

  it('a masked password matches the real one; a chosen client id, or any other CONNECT field, still has to match', async () => {
    const masked = await playHost(pubTrace(connect({ clientId: 'sensor-7', username: 'u', password: Buffer.from('******') })), [
      Buffer.from(`AT+CIPSEND=0,${connect({ clientId: 'sensor-7', username: 'u', password: Buffer.from('secret') }).length}\r`),
      connect({ clientId: 'sensor-7', username: 'u', password: Buffer.from('secret') }),
    ]);
    expect(masked.seen).toEqual(['match 1', 'match 2']);
    // Not loosened too far: these were differences before and still are.
    const chosen = await playHost(pubTrace(connect({ clientId: 'sensor-7' })), [
      Buffer.from(`AT+CIPSEND=0,${connect({ clientId: 'sensor-8' }).length}\r`),
      connect({ clientId: 'sensor-8' }),
    ]);
    expect(chosen.seen).toEqual(['match 1', 'different-payload 2']);
    const keepalive = await playHost(pubTrace(connect({ clientId: 'atbridge-pub-1050' })), [
      Buffer.from(`AT+CIPSEND=0,${connect({ clientId: 'atbridge-pub-2222', keepalive: 30 }).length}\r`),
      connect({ clientId: 'atbridge-pub-2222', keepalive: 30 }),
    ]);
    expect(keepalive.seen).toEqual(['match 1', 'different-payload 2']);
  });
});
