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

describe('payload and data-mode commands come from profile data', () => {
  it('a bare prompt command is passthrough; a link in front of a single-link template is the link', () => {
    expect(sendRequestOf('AT+CIPSEND')).toMatchObject({ socket: true, passthrough: true });
    expect(sendRequestOf('AT+CIPSENDEX=3,12')).toMatchObject({ link: '3', length: 12, socket: true });
    expect(sendRequestOf('AT+CIPSENDEX=12')).toMatchObject({ link: '0', length: 12, socket: true });
    // ESP-AT UDP: trailing remote host and port.
    expect(sendRequestOf('AT+CIPSEND=0,5,"10.0.0.1",5683')).toMatchObject({ link: '0', length: 5, socket: true });
    expect(sendRequestOf('AT+CIPSEND=0,')).toMatchObject({ link: '0', length: undefined, socket: true });
  });

  it('payloads that are not socket data report their length at the template position', () => {
    expect(sendRequestOf('AT+CMQTTTOPIC=0,9')).toMatchObject({ length: 9, socket: false });
    expect(sendRequestOf('AT+CMQTTSUBTOPIC=0,9,1')).toMatchObject({ length: 9, socket: false });
    expect(sendRequestOf('AT+CCERTDOWN="ca.pem",1188')).toMatchObject({ length: 1188, socket: false });
    expect(sendRequestOf('AT+HTTPDATA=120,10000')).toMatchObject({ length: 120, socket: false });
  });

  it('a transparent open names its link from the template', () => {
    expect(sendRequestOf('AT+CIPOPEN=1,"TCP","10.0.0.1",1883')).toMatchObject({ link: '1', length: undefined, socket: true });
    expect(sendRequestOf('AT+QIOPEN=1,2,"TCP","10.0.0.1",1883,0,2')).toMatchObject({ link: '2', socket: true });
    expect(sendRequestOf('AT+CASWITCH=0,1')).toMatchObject({ link: '0', socket: true });
    // A mode switch is no send (SIM800 quick-send mode).
    expect(sendRequestOf('AT+CIPQSEND=1')).toBeUndefined();
  });
});
