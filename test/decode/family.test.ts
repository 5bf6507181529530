import { describe, expect, it } from 'vitest';
import { describeGuess, guessFamily } from '../../src/decode/family.js';
import { decodeAll, find, tempFile } from './helpers.js';

describe('unknown families still read: the family is guessed from content, the 3GPP base reads the ones without a profile', () => {
  it('guesses a family and says why', () => {
    const quectel = guessFamily('AT+QIACT=1\r\nOK\r\n+QIND: SMS DONE\r\nQuectel\r\nEC21\r\n');
    expect(quectel).toMatchObject({ id: 'quectel', profile: undefined });
    expect(describeGuess(quectel, '3gpp-quectel')).toMatch(/Quectel .*guessed from .*read with the 3GPP TS 27\.007 base/);
    expect(guessFamily('*ATREADY: 1\r\nA7670E-LASE\r\n')).toMatchObject({ id: 'a76xx', profile: 'sim7600' });
    expect(guessFamily('AT+CWJAP="lab","x"\r\nWIFI CONNECTED\r\n')).toMatchObject({ id: 'esp-at', profile: 'esp-at' });
    expect(guessFamily('nothing here')).toBeUndefined();
  });

  it('a Quectel log is read with the 3GPP base: CME codes, +CPIN, +CREG/+CEREG, +CSQ keep their meaning', async () => {
    const log = ['ATI', 'Quectel', 'EC21', 'OK', 'AT+CPIN?', '+CME ERROR: 10', 'AT+CEREG?', '+CEREG: 0,2', 'OK', 'AT+CSQ', '+CSQ: 99,99', 'OK', 'AT+QIACT=1', 'ERROR'].join('\n');
    const { entries, profile } = await decodeAll(tempFile('quectel.txt', `${log}\n`));
    expect(profile).toBe('3gpp-quectel');
    expect(find(entries, '+CME ERROR: 10')).toMatchObject({ kind: 'final', outcome: 'error', meaning: 'SIM not inserted' });
    expect(find(entries, '+CEREG: 0,2')).toMatchObject({ kind: 'info', meaning: 'not registered, searching' });
    expect(find(entries, 'AT+QIACT=1')).toMatchObject({ dir: 'tx', kind: 'command' });
  });
});
