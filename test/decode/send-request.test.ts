import { describe, expect, it } from 'vitest';
import { sendRequestOf } from '../../src/decode/send-request.js';

describe('send requests read off the shipped profiles', () => {
  it('reads every family socket send: link and length', () => {
    expect(sendRequestOf('AT+CIPSEND=0,24')).toMatchObject({ link: '0', length: 24, socket: true });
    expect(sendRequestOf('AT+CIPSEND=23')).toMatchObject({ link: '0', length: 23, socket: true });
    expect(sendRequestOf('AT+CASEND=1,27')).toMatchObject({ link: '1', length: 27, socket: true, passthrough: false });
    expect(sendRequestOf('AT+QISEND=2,14')).toMatchObject({ link: '2', length: 14, socket: true, passthrough: false });
  });

  it('takes a zero length (Quectel counters query) and other commands for no send', () => {
    expect(sendRequestOf('AT+QISEND=0,0')).toBeUndefined();
    expect(sendRequestOf('AT+CSQ')).toBeUndefined();
  });
});
