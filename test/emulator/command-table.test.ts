import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_COMMANDS } from '../../src/emulator/3gpp-base.js';
import { probeAll, renderTable, TABLE_END, TABLE_START } from '../../src/emulator/command-table.js';
import { DIALECTS } from '../../src/emulator/dialects.js';
import { DEFAULT_OPTIONS, startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { Terminal } from './support.js';

// Issue 14 item 2: the commands drivers send at bring-up and while polling, answered as the
// manuals say, for every cellular family; and README's table is the emulator's own.

const cellular = DIALECTS.filter((d) => d.kind === 'cellular');
let emu: EmulatorHandle | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function open(profile: string, extra: Record<string, unknown> = {}): Promise<Terminal> {
  emu = startEmulator({ profile, pacing: false, bootMs: 0, registerAfterMs: 0, echo: false, ...extra });
  const t = new Terminal(emu.link);
  await new Promise((r) => setTimeout(r, 20));
  return t;
}

describe('the command table', () => {
  it('README.md shows what the emulator answers today (npm run emulated-commands rewrites it)', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const shown = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END)).trim();
    expect(shown).toBe(renderTable(await probeAll()).trim());
  });

  it('every cellular family answers every 27.007 bring-up command and its own list (a 2G SIM800 has no +CEREG)', async () => {
    for (const probe of (await probeAll()).filter((p) => p.dialect.kind === 'cellular')) {
      const expected = [...STANDARD_COMMANDS, ...(probe.dialect.commands ?? [])].filter((c) => !(probe.dialect.id === 'sim800' && c === 'AT+CEREG?'));
      const failing = expected.filter((c) => probe.answers.get(c) !== 'ok');
      expect(failing, probe.dialect.id).toEqual([]);
    }
  });
});

describe.each(cellular.map((d) => [d.id] as const))('%s: identity, operator, clock and SMS settings', (id) => {
  it('IMEI from the profile (or --imei), IMSI and ICCID from the options', async () => {
    const t = await open(id, { imei: '356938035643809', imsi: '001010000000042', iccid: '8988211000000000777' });
    expect(await t.command('AT+CGSN')).toMatch(/\r\n356938035643809\r\n/);
    expect(await t.command('AT+GSN')).toMatch(/\r\n356938035643809\r\n/);
    expect(await t.command('AT+CIMI')).toMatch(/\r\n001010000000042\r\n/);
    // Each family has its own name for it (SIM7600/A76xx CICCID, SIM800/SIM70xx CCID, Quectel QCCID).
    const iccid = ['AT+CICCID', 'AT+CCID', 'AT+QCCID'];
    let found = false;
    for (const command of iccid) {
      const reply = await t.command(command);
      if (/\r\nOK\r\n/.test(reply)) {
        expect(reply).toMatch(/(?:\+ICCID: |\+QCCID: |\r\n)8988211000000000777\r\n/);
        found = true;
      }
    }
    expect(found).toBe(true);
  });

  it('without a SIM, IMSI is +CME ERROR: 10 (AT+CMEE=1)', async () => {
    const t = await open(id, { sim: 'missing' });
    await t.command('AT+CMEE=1');
    expect(await t.command('AT+CIMI')).toMatch(/\+CME ERROR: 10\r\n/);
  });

  it('AT+COPS=3,<format> picks long, short or numeric names in AT+COPS?', async () => {
    const t = await open(id);
    expect(await t.command('AT+COPS=3,2')).toMatch(/OK/);
    expect(await t.command('AT+COPS?')).toMatch(/\+COPS: 0,2,"00101"/);
    await t.command('AT+COPS=3,0');
    expect(await t.command('AT+COPS?')).toMatch(/\+COPS: 0,0,"atbridge emulated"/);
  });

  it('AT+CFUN: 1 at power-on; 4 leaves the network, 1 searches again', async () => {
    const t = await open(id);
    expect(await t.command('AT+CFUN?')).toMatch(/\+CFUN: 1\r\n/);
    await t.command('AT+CFUN=4');
    expect(await t.command('AT+CFUN?')).toMatch(/\+CFUN: 4\r\n/);
    expect(await t.command('AT+CREG?')).toMatch(/\+CREG: 0,0\r\n/);
    await t.command('AT+CFUN=1');
    expect(await t.command('AT+CREG?')).toMatch(/\+CREG: 0,1\r\n/);
  });

  it('AT+CTZR/CTZU are kept and read back; AT+CCLK? is "yy/MM/dd,hh:mm:ss±zz"', async () => {
    const t = await open(id);
    expect(await t.command('AT+CTZR=1')).toMatch(/OK/);
    expect(await t.command('AT+CTZR?')).toMatch(/\+CTZR: 1\r\n/);
    expect(await t.command('AT+CTZU=0')).toMatch(/OK/);
    expect(await t.command('AT+CTZU?')).toMatch(/\+CTZU: 0\r\n/);
    expect(await t.command('AT+CCLK?')).toMatch(/\+CCLK: "\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d[+-]\d\d"\r\n/);
    expect(await t.command('AT+CCLK="30/01/02,03:04:05+00"')).toMatch(/OK/);
    expect(await t.command('AT+CCLK?')).toMatch(/\+CCLK: "30\/01\/02,03:04:0\d\+00"/);
  });

  it('SMS settings: CMGF, CNMI and CSCA? (nothing is sent)', async () => {
    const t = await open(id);
    await t.command('AT+CMGF=1');
    expect(await t.command('AT+CMGF?')).toMatch(/\+CMGF: 1\r\n/);
    await t.command('AT+CNMI=2,1,0,0,0');
    expect(await t.command('AT+CNMI?')).toMatch(/\+CNMI: 2,1,0,0,0\r\n/);
    expect(await t.command('AT+CSCA?')).toContain(`+CSCA: "${DEFAULT_OPTIONS.smsc}",145`);
  });
});
