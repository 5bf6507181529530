import { afterEach, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import { AtError } from '../../src/at/errors.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator/index.js';
import { getProfile } from '../../src/profile/index.js';
import { eventually, readBytes, startEchoServer } from '../helpers/echo-server.js';

// The emulated modules answer as the real ones do, and their faults behave as described.
const open: { emu: EmulatorHandle; channel: AtChannel }[] = [];
afterEach(async () => {
  for (const { emu, channel } of open.splice(0)) {
    channel.detach();
    await emu.close();
  }
});

function start(profile: 'sim7600' | 'esp-at', options: Partial<EmulatorOptions> = {}): { emu: EmulatorHandle; channel: AtChannel } {
  const emu = startEmulator({ profile, pacing: false, ...options });
  const channel = new AtChannel(emu.link, getProfile(profile), { busyRetryMs: 50 });
  const pair = { emu, channel };
  open.push(pair);
  return pair;
}

function banner(emu: EmulatorHandle): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    emu.link.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (/PB DONE|ready/.test(text)) resolve(text);
    });
  });
}

describe('identity, echo, banner, unknown commands', () => {
  it('SIM7600 powers on with RDY, +CPIN: READY, SMS DONE, PB DONE', async () => {
    const emu = startEmulator({ profile: 'sim7600', pacing: false, bootMs: 20 });
    const channel = new AtChannel(emu.link, getProfile('sim7600'));
    open.push({ emu, channel });
    expect(await banner(emu)).toBe('\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n');
  });

  it('echo is on by default, ATE0 turns it off; unknown commands are ERROR', async () => {
    const { emu, channel } = start('esp-at');
    let heard = '';
    emu.link.on('data', (c: Buffer) => (heard += c.toString('latin1')));
    await channel.sendOk('AT');
    expect(heard).toContain('AT\r\n');
    await channel.sendOk('ATE0');
    heard = '';
    await channel.sendOk('AT');
    expect(heard).toBe('\r\nOK\r\n');
    const res = await channel.send('AT+NOSUCH');
    expect(res.final).toBe('ERROR');
  });

  it('answers ATI, AT+CGMR and AT+SIMCOMATI / AT+GMR like the real modules', async () => {
    const sim = start('sim7600').channel;
    expect((await sim.sendOk('ATI')).lines).toContain('Model: SIMCOM_SIM7600G-H');
    expect((await sim.sendOk('AT+CGMR')).lines).toEqual(['+CGMR: LE20B04SIM7600G22']);
    const esp = start('esp-at').channel;
    expect((await esp.sendOk('AT+GMR')).lines[0]).toMatch(/^AT version:2\.2\.0\.0/);
  });
});

describe('SIM, registration, Wi-Fi', () => {
  it.each([
    ['missing', '+CME ERROR: 10'],
    ['busy', '+CME ERROR: 14'],
  ] as const)('SIM %s answers %s', async (sim, final) => {
    const { channel } = start('sim7600', { sim });
    await channel.sendOk('AT+CMEE=1');
    expect((await channel.send('AT+CPIN?')).final).toBe(final);
  });

  it('registration searches, then registers; a registration-lost fault searches again for a while', async () => {
    const { emu, channel } = start('sim7600', { registerAfterMs: 150 });
    expect((await channel.sendOk('AT+CREG?')).lines).toEqual(['+CREG: 0,2']);
    await eventually(async () => (await channel.sendOk('AT+CREG?')).lines[0] === '+CREG: 0,1', 5000, 'registered');
    emu.inject({ kind: 'registration-lost', ms: 200 });
    expect((await channel.sendOk('AT+CGREG?')).lines).toEqual(['+CGREG: 0,2']);
    await eventually(async () => (await channel.sendOk('AT+CGREG?')).lines[0] === '+CGREG: 0,1', 5000, 'back');
  });

  it('CWJAP fails with +CWJAP:2 for a wrong password and +CWJAP:3 for an unknown AP', async () => {
    const { channel } = start('esp-at');
    await channel.sendOk('AT+CWMODE=1');
    const wrong = await channel.send('AT+CWJAP="atbridge-lab","nope"', { timeoutMs: 5000 });
    expect([wrong.lines, wrong.final]).toEqual([['+CWJAP:2'], 'ERROR']);
    const missing = await channel.send('AT+CWJAP="elsewhere","x"', { timeoutMs: 5000 });
    expect(missing.lines).toEqual(['+CWJAP:3']);
    const good = await channel.send('AT+CWJAP="atbridge-lab","correct horse"', { timeoutMs: 5000 });
    expect(good.ok).toBe(true);
  });
});

describe('faults', () => {
  it('wrong-baud: the host at the old rate reads garbage; at the module rate it works', async () => {
    const { emu, channel } = start('esp-at');
    emu.inject({ kind: 'wrong-baud', baud: 9600 });
    const err = await channel.send('AT', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as AtError).atCode).toBe('timeout');
    await emu.link.setBaud(9600);
    // The garbled bytes of the first try sit in the module's line buffer: that line is an ERROR.
    await channel.send('AT', { timeoutMs: 1000 });
    expect((await channel.send('AT', { timeoutMs: 1000 })).ok).toBe(true);
  });

  it('AT+IPR really changes the rate: OK at the old rate, then garbage until the host follows', async () => {
    const { emu, channel } = start('sim7600');
    expect((await channel.send('AT+IPR=57600')).ok).toBe(true);
    await eventually(() => emu.wire.module.baud === 57600, 2000, 'the module at 57600');
    const err = await channel.send('AT', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as AtError).atCode).toBe('timeout');
    await emu.link.setBaud(57600);
    await channel.send('AT');
    expect((await channel.send('AT')).ok).toBe(true);
  });

  it('corrupt: flipped bits on the line spoil some answers, and nothing throws', async () => {
    const { emu, channel } = start('sim7600');
    await channel.sendOk('ATE0');
    emu.inject({ kind: 'corrupt', rate: 0.05 });
    let clean = 0;
    let spoiled = 0;
    for (let i = 0; i < 60; i++) {
      const res = await channel.send('AT+CSQ', { timeoutMs: 100 }).catch((e: unknown) => e);
      if (res instanceof AtError) spoiled++;
      else if ((res as { lines: string[] }).lines[0] === '+CSQ: 21,99') clean++;
      else spoiled++;
    }
    expect(spoiled).toBeGreaterThan(0);
    expect(clean).toBeGreaterThan(0);
  });

  it('drop-final and delay-final: the next final is lost, or comes after the delay', async () => {
    const { emu, channel } = start('esp-at');
    emu.inject({ kind: 'drop-final' });
    expect(((await channel.send('AT', { timeoutMs: 200 }).catch((e: unknown) => e)) as AtError).atCode).toBe('timeout');
    expect((await channel.send('AT')).ok).toBe(true);
    emu.inject({ kind: 'delay-final', ms: 400 });
    expect(((await channel.send('AT', { timeoutMs: 100 }).catch((e: unknown) => e)) as AtError).atCode).toBe('timeout');
    expect((await channel.send('AT', { timeoutMs: 2000 })).ok).toBe(true);
  });

  it('busy: commands answer busy p... until the time is up (the channel retries)', async () => {
    const { emu, channel } = start('esp-at');
    emu.inject({ kind: 'busy', ms: 300 });
    const res = await channel.send('AT');
    expect(res.ok).toBe(true);
    expect(res.lines.some((l) => l.startsWith('busy p'))).toBe(true);
  });

  it('silent: a dead module says nothing', async () => {
    const { emu, channel } = start('sim7600');
    emu.inject({ kind: 'silent' });
    expect(((await channel.send('AT', { timeoutMs: 200 }).catch((e: unknown) => e)) as AtError).atCode).toBe('timeout');
  });
});

describe("transparent mode and the '+++' rule", () => {
  it("a '+++' inside a data burst stays data; one framed by silence leaves data mode", async () => {
    const echo = await startEchoServer();
    try {
      const { emu, channel } = start('esp-at');
      await channel.sendOk('AT+CWJAP="atbridge-lab","correct horse"', { timeoutMs: 5000 });
      await channel.sendOk('AT+CIPMODE=1');
      await channel.sendOk(`AT+CIPSTART="TCP","127.0.0.1",${echo.port}`);
      await channel.send('AT+CIPSEND', { prompt: true, enterDataMode: true });
      expect(emu.module.inTransparentMode).toBe(true);
      const back = new Promise<Buffer>((resolve) => {
        const parts: Buffer[] = [];
        channel.on('data', (c: Buffer) => {
          parts.push(c);
          if (Buffer.concat(parts).length >= 5) resolve(Buffer.concat(parts));
        });
      });
      await channel.writeRaw(Buffer.from('a+++b'));
      expect((await back).toString()).toBe('a+++b');
      expect(emu.module.inTransparentMode).toBe(true);
      await new Promise((r) => setTimeout(r, 60));
      await channel.writeRaw(Buffer.from('+++'));
      await eventually(() => !emu.module.inTransparentMode, 3000, 'left transparent mode');
    } finally {
      await echo.close();
    }
  });

  it('SIM7600 transparent open answers CONNECT 115200 and ATO returns to data mode', async () => {
    const echo = await startEchoServer();
    try {
      const { emu, channel } = start('sim7600');
      await channel.sendOk('AT+CIPMODE=1');
      await channel.send('AT+NETOPEN', { awaitUrc: { pattern: /^\+NETOPEN: 0$/, timeoutMs: 2000 } });
      const res = await channel.send(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, {
        finals: [{ pattern: '^CONNECT(?: (?<rate>\\d+))?$', outcome: 'connect' }],
        enterDataMode: true,
      });
      expect(res.final).toBe('CONNECT 115200');
      expect(emu.module.inTransparentMode).toBe(true);
      emu.module.leaveTransparent(false);
      channel.leaveDataMode();
      const resume = await channel.send('ATO', { finals: [{ pattern: '^CONNECT(?: (?<rate>\\d+))?$', outcome: 'connect' }], enterDataMode: true });
      expect(resume.outcome).toBe('connect');
      const echoed = readBytes({ on: (e: string, f: (c: Buffer) => void) => channel.on(e, f), off: (e: string, f: (c: Buffer) => void) => channel.off(e, f) } as never, 4);
      await channel.writeRaw(Buffer.from('back'));
      expect((await echoed).toString()).toBe('back');
    } finally {
      await echo.close();
    }
  });
});
