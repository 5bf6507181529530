import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { AtbridgeError } from '../src/errors.js';
import { commandName, compareVersions, getProfile, listProfileIds, parseProfile, PROFILE_DIR } from '../src/profile/index.js';
import { ProfileSchema } from '../src/profile/schema.js';

describe('firmware profiles', () => {
  it('ships sim7600 and esp-at, both valid', () => {
    expect(listProfileIds()).toEqual(expect.arrayContaining(['esp-at', 'sim7600']));
    for (const id of listProfileIds()) expect(getProfile(id).id).toBe(id);
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
    expect(() => parseProfile(JSON.stringify(badRegex), 'x.json')).toThrow(/x\.json: field urcs\.0\.pattern: not a valid regular expression/);
    const badRef = structuredClone(good);
    badRef.scripts.init.push('noSuchCommand');
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
