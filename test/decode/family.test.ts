import { describe, expect, it } from 'vitest';
import { describeGuess, guessFamily } from '../../src/decode/family.js';
import { decodeAll, find, tempFile } from './helpers.js';

describe('unknown families still read: the family is guessed from content, the 3GPP base reads the ones without a profile', () => {
  it('one guesser, from profile data, answers every profile and says why', () => {
    const cases: [string, string, string | undefined][] = [
      ['AT+QIACT=1\r\nOK\r\n+QIND: SMS DONE\r\nQuectel\r\nEC21\r\n', 'quectel', 'quectel'],
      ['RDY\r\nAPP RDY\r\n+QIURC: "recv",0\r\n+QIURC: "closed",0\r\n', 'quectel', 'quectel'],
      ['*ATREADY: 1\r\nA7670E-LASE\r\n', 'a76xx', 'a76xx'],
      ['AT+CCHSTART\r\nOK\r\n+CCHSTART: 0\r\nAT+NETOPEN\r\n', 'a76xx', 'a76xx'],
      ['AT+NETOPEN\r\nOK\r\n+NETOPEN: 0\r\nAT+CIPOPEN=0,"TCP","x",1\r\n+CIPOPEN: 0,0\r\n', 'sim7600', 'sim7600'],
      ['AT+CSTT="internet"\r\nOK\r\nAT+CIICR\r\nOK\r\nAT+CIPSTART="TCP","x",1\r\nOK\r\nCONNECT OK\r\nCall Ready\r\n', 'sim800', 'sim800'],
      ['AT+CNACT=0,1\r\nOK\r\n+APP PDP: 0,ACTIVE\r\nAT+CAOPEN=0,0,"TCP","x",1\r\n+CAOPEN: 0,0\r\n', 'sim7080', 'sim7080'],
      ['AT+CWJAP="lab","x"\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n', 'esp-at', 'esp-at'],
      ['AT+GMR\r\nAT version:1.6.2.0(Apr 13 2018 11:10:59)\r\nSDK version:2.2.1(6ab97e9)\r\nOK\r\n', 'esp8266-at1', 'esp8266-at1'],
      ['AT+USOCR=6\r\n+USOCR: 0\r\nOK\r\n+UUSORD: 0,12\r\n', 'ublox', undefined],
      // Only words every cellular family says: the 3GPP base reads it.
      ['AT+CPIN?\r\n+CPIN: READY\r\nOK\r\nAT+CSQ\r\n+CSQ: 12,99\r\nOK\r\nAT+CREG?\r\n+CREG: 0,1\r\nOK\r\n', '3gpp', undefined],
    ];
    for (const [text, id, profile] of cases) expect(guessFamily(text), text).toMatchObject({ id, profile });
    const quectel = guessFamily('RDY\r\nAPP RDY\r\n+QIURC: "recv",0\r\n');
    expect(describeGuess(quectel, 'quectel')).toMatch(/^family Quectel .*guessed from APP RDY, \+QIURC recv.*; read with the quectel profile$/);
    expect(describeGuess(guessFamily('AT+USOCR=6\r\n+USOCR: 0\r\n'), '3gpp-ublox')).toMatch(/u-blox .*read with the 3GPP TS 27\.007 base/);
    // Words every family says tell nothing.
    expect(guessFamily('AT\r\nOK\r\n')).toBeUndefined();
    expect(guessFamily('nothing here')).toBeUndefined();
  });

  it('a u-blox log (no profile of its own) is read with the 3GPP base: CME codes, +CPIN, +CREG/+CEREG, +CSQ keep their meaning', async () => {
    const log = ['ATI', 'u-blox', 'SARA-R410M-02B', 'OK', 'AT+CPIN?', '+CME ERROR: 10', 'AT+CEREG?', '+CEREG: 0,2', 'OK', 'AT+CSQ', '+CSQ: 99,99', 'OK', 'AT+USOCR=6', 'ERROR'].join('\n');
    const { entries, profile } = await decodeAll(tempFile('quectel.txt', `${log}\n`));
    expect(profile).toBe('3gpp-ublox');
    expect(find(entries, '+CME ERROR: 10')).toMatchObject({ kind: 'final', outcome: 'error', meaning: 'SIM not inserted' });
    expect(find(entries, '+CEREG: 0,2')).toMatchObject({ kind: 'info', meaning: 'not registered, searching' });
    expect(find(entries, 'AT+USOCR=6')).toMatchObject({ dir: 'tx', kind: 'command' });
  });
});
