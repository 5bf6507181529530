import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { closeAll, emulator, linesOf, sleep, Terminal } from './support.js';

afterEach(closeAll);

describe('SIM states at power-on', () => {
  it('a PIN-locked SIM: RDY, +CPIN: SIM PIN; a wrong PIN is +CME ERROR: 16; the right one brings the rest of the banner and registration', async () => {
    const emu = startEmulator({ profile: 'sim7600', pacing: false, sim: 'pin', pin: '4321' });
    const term = new Terminal(emu.link);
    onTestFinished(() => emu.close());
    await term.until(/\+CPIN: SIM PIN\r\n/);
    expect(term.heard).toBe('\r\nRDY\r\n\r\n+CPIN: SIM PIN\r\n');
    await term.command('ATE0');
    expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['+CPIN: SIM PIN', 'OK']);
    expect(linesOf(await term.command('AT+CREG?'))).toEqual(['+CREG: 0,0', 'OK']);
    expect(linesOf(await term.command('AT+CPIN="0000"'))).toEqual(['+CME ERROR: 16']);
    await term.command('AT+CPIN="4321"');
    await term.until(/\+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n/);
    expect(linesOf(await term.command('AT+CREG?'))).toEqual(['+CREG: 0,1', 'OK']);
  });

  it('a busy SIM: RDY alone, +CME ERROR: 14 (SIM busy), later +CPIN: READY, SMS DONE, PB DONE on their own (sim7600_16)', async () => {
    const { term } = await emulator('sim7600', { sim: 'busy' });
    await term.command('ATE0');
    expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['+CME ERROR: 14']);
    await term.command('AT+CMEE=2');
    expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['+CME ERROR: SIM busy']);
    await term.until(/\+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n/, 6000);
    expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['+CPIN: READY', 'OK']);
  }, 10_000);

  it('no SIM: RDY alone, +CME ERROR: 10, never registers; AT+CMEE=0 makes it a bare ERROR (sim7600_18)', async () => {
    const emu = startEmulator({ profile: 'sim7600', pacing: false, sim: 'missing' });
    const term = new Terminal(emu.link);
    try {
      await term.until(/RDY\r\n/);
      await sleep(50);
      expect(term.take()).toBe('\r\nRDY\r\n');
      await term.command('ATE0');
      expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['+CME ERROR: 10']);
      expect(linesOf(await term.command('AT+CSQ'))).toEqual(['+CSQ: 99,99', 'OK']);
      expect(linesOf(await term.command('AT+CGREG?'))).toEqual(['+CGREG: 0,0', 'OK']);
      await term.command('AT+CMEE=0');
      expect(linesOf(await term.command('AT+CPIN?'))).toEqual(['ERROR']);
    } finally {
      await emu.close();
    }
  });

  it('registration searches first (0,2), then registers (0,1), announcing it with AT+CGREG=1', async () => {
    const { term } = await emulator('sim7600', { registerAfterMs: 200 });
    await term.command('ATE0');
    await term.command('AT+CGREG=1');
    expect(linesOf(await term.command('AT+CGREG?'))).toEqual(['+CGREG: 1,2', 'OK']);
    await term.until(/\r\n\+CGREG: 1\r\n/);
    expect(linesOf(await term.command('AT+COPS?'))[0]).toMatch(/^\+COPS: 0,0,".+",7$/);
  });
});

describe('pacing, latency and the line rate', () => {
  it('paced output arrives in small slices at a low rate, every byte counted (ordering, not speed)', async () => {
    const emu = startEmulator({ profile: 'esp-at', pacing: true, baud: 2400 });
    const chunks: Buffer[] = [];
    emu.link.on('data', (c: Buffer) => chunks.push(c));
    try {
      const term = new Terminal(emu.link);
      await term.until(/ready\r\n/, 5000);
      chunks.length = 0;
      await term.command('AT+GMR', /\r\nOK\r\n/, 5000);
      const said = Buffer.concat(chunks);
      // 2400 baud is 240 bytes/s: the answer takes most of a second and a 4 ms slice holds one
      // byte. A timer that fires late delivers what the line carried meanwhile (a UART does not
      // wait for the host), so how big the largest slice is depends on the machine's load: only
      // the typical slice is asserted (the catch-up and never-ahead rules: test/transport).
      const sizes = chunks.map((c) => c.length).sort((a, b) => a - b);
      expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThanOrEqual(4);
      expect(chunks.length).toBeGreaterThan(20);
      expect(said.toString('latin1')).toMatch(/^AT\+GMR\r\r\nAT version:/);
      expect(emu.wire.bytesToModule).toBe('AT+GMR\r'.length);
    } finally {
      await emu.close();
    }
  });

  it('command latency: nothing is answered before it has passed', async () => {
    const { term } = await emulator('sim7600', { latencyMs: 400, echo: false });
    await term.type('AT\r');
    await sleep(150);
    expect(term.heard).toBe('');
    await term.until(/\r\nOK\r\n/);
  });

  it('AT+UART_CUR? and AT+IPR? report the rate in use after a change', async () => {
    const esp = await emulator('esp-at');
    await esp.term.command('AT+UART_CUR=921600,8,1,0,0');
    await esp.emu.link.setBaud(921600);
    expect(linesOf(await esp.term.command('AT+UART_CUR?'), 'AT+UART_CUR?')).toEqual(['+UART_CUR:921600,8,1,0,0', 'OK']);
    const sim = await emulator('sim7600');
    await sim.term.command('AT+IPR=460800');
    await sim.emu.link.setBaud(460800);
    expect(linesOf(await sim.term.command('AT+IPR?'), 'AT+IPR?')).toEqual(['+IPR: 460800', 'OK']);
  });
});
