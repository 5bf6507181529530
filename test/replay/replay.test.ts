import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../src/profile/index.js';
import { openPtyEnd, type PtyEnd } from '../../src/replay/pty-end.js';
import { ReplayModule, type Divergence } from '../../src/replay/replay-module.js';
import { resend } from '../../src/replay/resend.js';
import { buildScript } from '../../src/replay/script.js';
import { sideBySide } from '../../src/replay/side-by-side.js';
import { openCapture } from '../../src/trace/import/index.js';
import { openDevice } from '../../src/transport/open-device.js';
import { SerialLink } from '../../src/transport/serial-link.js';

const LOGS = new URL('../../fixtures/logs/', import.meta.url).pathname;

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
    expect(seen).toEqual(['match 1', 'unexpected AT+CWJAP="elsewhere","************"']);
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
