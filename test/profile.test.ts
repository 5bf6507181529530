import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { AtbridgeError } from '../src/errors.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { commandName, compareVersions, getProfile, listBaseIds, listProfileIds, loadProfile, parseProfile, PROFILE_DIR } from '../src/profile/index.js';
import { ProfileSchema } from '../src/profile/schema.js';
import { rankProfiles } from '../src/profile/identify-score.js';
import { secretCommandsOf, shippedSecretCommands } from '../src/profile/secrets.js';

describe('firmware profiles', () => {
  it('ships sim7600 and esp-at, both valid', () => {
    expect(listProfileIds()).toEqual(expect.arrayContaining(['esp-at', 'sim7600']));
    for (const id of listProfileIds()) expect(getProfile(id).id).toBe(id);
  });

  it('composes: 3gpp is an abstract base that cellular profiles extend', () => {
    expect(listBaseIds()).toContain('3gpp');
    expect(listProfileIds()).not.toContain('3gpp');
    expect(() => loadProfile('3gpp')).toThrow(/3gpp\.json: is an abstract base profile/);
    const sim = getProfile('sim7600');
    expect(sim.data.extends).toBe('3gpp');
    expect(sim.data.abstract).toBeUndefined();
    // From the base (TS 27.007), not written in sim7600.json:
    expect(sim.command('pdpActivate').send).toBe('AT+CGACT=1,1');
    expect(sim.command('imei').send).toBe('AT+CGSN');
    expect(sim.explain('cme', '48')).toBe('hidden key required');
    expect(sim.explain('cms', '330')).toBe('SMSC address unknown');
    // The family's own words win, and a keyed list merges entry by entry.
    expect(sim.command('socketOpen').send).toBe('AT+CIPOPEN={link},"TCP","{host}",{port}');
    expect(sim.data.urcs.filter((u) => u.name === '+CPIN')).toHaveLength(1);
    expect(sim.data.urcs.some((u) => u.name === '+NETOPEN')).toBe(true);
    expect(sim.data.timeouts.byCommand['AT+NETOPEN']).toBe(120000);
    expect(sim.data.timeouts.byCommand['AT+CGACT']).toBe(150000);
  });

  it('maps verbose CME answers to their numeric codes from the table', () => {
    const sim = getProfile('sim7600');
    expect(sim.codeOf('cme', 'SIM not inserted')).toBe('10');
    expect(sim.codeOf('cme', 'sim failure')).toBe('13');
    expect(sim.codeOf('cme', '14')).toBe('14');
    expect(sim.codeOf('cme', 'something new')).toBe('something new');
  });

  it('names the file that wrote a bad field, and merges null as "remove"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atbridge-profile-'));
    const base = JSON.parse(readFileSync(join(PROFILE_DIR, '3gpp.json'), 'utf8'));
    base.commands.signal.timeoutMs = -1;
    writeFileSync(join(dir, 'mybase.json'), JSON.stringify(base));
    const child = JSON.parse(readFileSync(join(PROFILE_DIR, 'sim7600.json'), 'utf8'));
    child.extends = './mybase.json';
    child.id = 'child';
    writeFileSync(join(dir, 'child.json'), JSON.stringify(child));
    expect(() => loadProfile(join(dir, 'child.json'))).toThrow(/mybase\.json: field commands\.signal\.timeoutMs: .*\(merged into .*child\.json\)/);
    child.commands.signal = { timeoutMs: 100 };
    writeFileSync(join(dir, 'child2.json'), JSON.stringify(child));
    const merged = loadProfile(join(dir, 'child2.json'));
    expect(merged.commands.signal).toMatchObject({ send: 'AT+CSQ', timeoutMs: 100 });
    child.commands.netOpen = null;
    writeFileSync(join(dir, 'child3.json'), JSON.stringify(child));
    expect(() => loadProfile(join(dir, 'child3.json'))).toThrow(/child3\.json: field commands\.netOpen: a cellular profile needs the "netOpen" command role/);
    const loop = { ...child, extends: './loop.json', id: 'loop' };
    writeFileSync(join(dir, 'loop.json'), JSON.stringify(loop));
    expect(() => loadProfile(join(dir, 'loop.json'))).toThrow(/field extends: .* extends back to this file/);
    writeFileSync(join(dir, 'orphan.json'), JSON.stringify({ ...child, extends: 'no-such-base' }));
    expect(() => loadProfile(join(dir, 'orphan.json'))).toThrow(/orphan\.json: field extends: no base profile "no-such-base"/);
    const { id: _id, ...noId } = child;
    writeFileSync(join(dir, 'noid.json'), JSON.stringify({ ...noId, extends: '3gpp' }));
    expect(() => loadProfile(join(dir, 'noid.json'))).toThrow(/noid\.json: field id: a profile that extends another must set its own id/);
  });

  it('checks the command roles of each kind of family at load', () => {
    const esp = JSON.parse(readFileSync(join(PROFILE_DIR, 'esp-at.json'), 'utf8'));
    delete esp.commands.wifiJoin;
    expect(() => parseProfile(JSON.stringify(esp), 'w.json')).toThrow(/^w\.json: field commands\.wifiJoin: a wifi profile needs the "wifiJoin" command role$/);
    const esp2 = JSON.parse(readFileSync(join(PROFILE_DIR, 'esp-at.json'), 'utf8'));
    delete esp2.commands.socketRead;
    expect(() => parseProfile(JSON.stringify(esp2), 'r.json')).toThrow(/field commands\.socketRead: socket\.recvModes has "buffered"/);
    const sim = JSON.parse(readFileSync(join(PROFILE_DIR, 'sim7600.json'), 'utf8'));
    sim.scripts.registration = [];
    expect(() => parseProfile(JSON.stringify(sim), 'c.json')).toThrow(/c\.json: field scripts\.registration: a cellular profile needs the "registration" script/);
  });

  it('keeps the committed JSON schema in step with the validator', () => {
    const committed = JSON.parse(readFileSync(join(PROFILE_DIR, 'profile.schema.json'), 'utf8'));
    expect(committed).toEqual(z.toJSONSchema(ProfileSchema, { io: 'input' }));
  });

  it('reports a bad profile as one error naming the file and the field', () => {
    const good = JSON.parse(readFileSync(join(PROFILE_DIR, 'sim7600.json'), 'utf8'));
    const bad = structuredClone(good);
    bad.commands.socketSend.prompt = 'yes';
    expect(() => parseProfile(JSON.stringify(bad), 'my.json')).toThrow(/^my\.json: field commands\.socketSend\.prompt: /);
    const badRegex = structuredClone(good);
    badRegex.urcs[0].pattern = '([unclosed';
    expect(() => parseProfile(JSON.stringify(badRegex), 'x.json')).toThrow(/x\.json: field urcs\.\d+\.pattern \(urcs entry \"RDY\"\): not a valid regular expression/);
    const badRef = structuredClone(good);
    badRef.scripts.init = ['echoOff', 'noSuchCommand'];
    expect(() => parseProfile(JSON.stringify(badRef), 'y.json')).toThrow(/field scripts\.init\.1: unknown command "noSuchCommand"/);
    expect(() => parseProfile('{', 'z.json')).toThrow(AtbridgeError);
  });

  it('applies firmware quirks: CIPRECVTYPE from ESP-AT 3.3, bigger sends from 2.x', () => {
    const esp = getProfile('esp-at');
    expect(esp.command('recvBuffered').send).toBe('AT+CIPRECVMODE=1');
    expect(esp.maxSend).toBe(2048);
    const v34 = esp.forFirmware('3.4.0.0');
    expect(v34.command('recvBuffered').send).toBe('AT+CIPRECVTYPE=1');
    expect(v34.maxSend).toBe(8192);
    const v22 = esp.forFirmware('2.2.0.0');
    expect(v22.command('recvBuffered').send).toBe('AT+CIPRECVMODE=1');
    expect(v22.maxSend).toBe(8192);
  });

  it('fills templates with the firmware string escaping', () => {
    const esp = getProfile('esp-at');
    expect(esp.fill(esp.command('wifiJoin').send, { ssid: 'my,ap', password: 'pa"ss' })).toBe('AT+CWJAP="my\\,ap","pa\\"ss"');
    const sim = getProfile('sim7600');
    expect(sim.fill(sim.command('socketOpen').send, { link: 0, host: 'broker.local', port: 1883 })).toBe(
      'AT+CIPOPEN=0,"TCP","broker.local",1883',
    );
    expect(() => sim.fill(sim.command('pdp').send, {})).toThrow(/needs \{apn\}/);
  });

  it('explains codes from the profile tables', () => {
    expect(getProfile('sim7600').explain('cme', '10')).toBe('SIM not inserted');
    expect(getProfile('esp-at').explain('cwjap', '2')).toBe('wrong password');
    expect(getProfile('sim7600').explain('creg', '2')).toBe('not registered, searching');
  });

  it('names commands and compares versions', () => {
    expect(commandName('AT+CIPSEND=0,5')).toBe('AT+CIPSEND');
    expect(commandName('at+creg?')).toBe('AT+CREG');
    expect(commandName('ATE0')).toBe('ATE0');
    expect(compareVersions('3.3.0.0', '2.2.0.0')).toBeGreaterThan(0);
    expect(compareVersions('1.7.4', '1.7.4.0')).toBe(0);
  });
});

describe('identification scores every profile', () => {
  const profiles = listProfileIds().map((id) => getProfile(id));
  const best = (lines: string[]) => rankProfiles(profiles, lines)[0]?.profile.id;

  it('each profile is the best match for its own emulated identity answers', () => {
    for (const p of profiles) {
      const lines = p.data.identify.commands.flatMap((c) => p.data.emulator.identity[c] ?? []);
      expect(best(lines), p.id).toBe(p.id);
    }
  });

  it('tells the families apart on real answers (an A76xx is not a SIM7600, ESP8266 AT 1.x is not ESP-AT 2.x)', () => {
    expect(best(['Manufacturer: SIMCOM INCORPORATED', 'Model: SIMCOM_SIM7600G-H', 'Revision: LE20B04SIM7600G22'])).toBe('sim7600');
    expect(best(['Manufacturer: SIMCOM INCORPORATED', 'Model: A7670E-LASE', 'Revision: A011B07A7670M7'])).toBe('a76xx');
    expect(best(['Manufacturer: SIMCOM INCORPORATED', 'Model: SIMCOM_SIM7670G-MNGV', '+CGMR: 2374B05SIM767XM5A_M'])).toBe('a76xx');
    expect(best(['SIM800 R14.18'])).toBe('sim800');
    expect(best(['SIM7000G R1529'])).toBe('sim7080');
    expect(best(['Revision:1951B04SIM7080'])).toBe('sim7080');
    expect(best(['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G'])).toBe('quectel');
    expect(best(['AT version:1.7.4.0(May 11 2020 19:13:04)', 'SDK version:3.0.4(9532ceb)'])).toBe('esp8266-at1');
    expect(best(['AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)', 'SDK version:v4.2.2-76-gefa6eca'])).toBe('esp-at');
    expect(best(['OK'])).toBeUndefined();
  });
});

describe('family data', () => {
  it('derives the secret-bearing commands from template variables', () => {
    const esp1 = secretCommandsOf(loadProfile('esp8266-at1'));
    expect(esp1).toEqual(expect.arrayContaining([{ prefix: 'AT+CWJAP_CUR=', secretArgs: [1] }, { prefix: 'AT+CWSAP_DEF=', secretArgs: [1] }]));
    const sim = secretCommandsOf(loadProfile('sim7600'));
    expect(sim).toEqual(expect.arrayContaining([{ prefix: 'AT+CPIN=', secretArgs: [0, 1] }, { prefix: 'AT+CGAUTH=', secretArgs: [3] }, { prefix: 'AT+CMQTTCONNECT=', secretArgs: [5] }]));
    expect(secretCommandsOf(loadProfile('quectel'))).toEqual(expect.arrayContaining([{ prefix: 'AT+QMTCONN=', secretArgs: [3] }, { prefix: 'AT+QICSGP=', secretArgs: [4] }]));
    expect(shippedSecretCommands().some((c) => c.prefix === 'AT+CSTT=' && c.secretArgs.includes(2))).toBe(true);
  });

  it('applies SIM7000 CIPSTART dialect on a sim7080 profile by firmware', () => {
    const p = getProfile('sim7080');
    expect(p.command('socketOpen').send).toBe('AT+CAOPEN={link},0,"TCP","{host}",{port}');
    const old = p.forFirmware('1529B01SIM7000E');
    expect(old.appliedQuirks()).toHaveLength(1);
    expect(old.command('socketOpen').send).toBe('AT+CIPSTART="TCP","{host}",{port}');
    expect(old.script('netOpenCommand')).toContain('netOpen');
    expect(old.command('netOpen')).toMatchObject({ send: 'AT+CIICR' });
    expect(old.command('netOpen').awaitUrc).toBeUndefined();
    expect(old.command('netOpen').recoverWith).toBeUndefined();
    expect(p.forFirmware('1951B04SIM7080').appliedQuirks()).toEqual([]);
  });

  it('every cellular family sits on the 3gpp base and every one names its sources', () => {
    for (const id of listProfileIds()) {
      const p = getProfile(id);
      expect(p.data.sources.length, id).toBeGreaterThanOrEqual(3);
      if (p.family === 'cellular') expect(p.command('simStatus').send, id).toBe('AT+CPIN?');
    }
  });
});
