import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import type { ClassifiedLine } from '../../src/at/classify.js';
import { AtError } from '../../src/at/errors.js';
import { getProfile } from '../../src/profile/index.js';
import { SerialLink } from '../../src/transport/serial-link.js';
import { openPtyPair, type PtyPair } from '../helpers/pty.js';

/**
 * The command API over a real pseudo-terminal with the real serialport package: the test plays
 * the module on the other end, line by line, so each rule of the channel is seen on real bytes.
 */
type Handler = (line: string, say: (text: string) => void) => void;

let pty: PtyPair;
let host: SerialLink;
let module: SerialLink;
let channel: AtChannel;
let seen: string[];
let handler: Handler;
let echo = true;
/** While set, the module takes raw data (after '>') instead of command lines. */
let rawSink: ((chunk: Buffer) => void) | undefined;

beforeEach(async () => {
  pty = await openPtyPair();
  host = await SerialLink.open({ path: pty.a, baud: 115200 });
  module = await SerialLink.open({ path: pty.b, baud: 115200 });
  seen = [];
  echo = true;
  handler = (_line, say) => say('\r\nOK\r\n');
  let buffer = '';
  rawSink = undefined;
  module.on('data', (chunk: Buffer) => {
    if (rawSink) return rawSink(chunk);
    buffer += chunk.toString('latin1');
    let cr: number;
    while ((cr = buffer.indexOf('\r')) !== -1) {
      const line = buffer.slice(0, cr).replace(/^\n/, '');
      buffer = buffer.slice(cr + 1);
      seen.push(line);
      const say = (text: string) => void module.write(Buffer.from(text, 'latin1'));
      if (echo) say(`${line}\r`);
      handler(line, say);
    }
  });
  channel = new AtChannel(host, getProfile('esp-at'), { busyRetryMs: 30 });
});

afterEach(async () => {
  channel.detach();
  await host.close();
  await module.close();
  await pty.close();
});

describe('AtChannel over a real pty', () => {
  it('collects information lines and removes the echo, with echo on and off', async () => {
    handler = (line, say) => line === 'AT+CWMODE?' && say('\r\n+CWMODE:1\r\n\r\nOK\r\n');
    const on = await channel.sendOk('AT+CWMODE?');
    expect(on.lines).toEqual(['+CWMODE:1']);
    echo = false;
    const off = await channel.sendOk('AT+CWMODE?');
    expect(off.lines).toEqual(['+CWMODE:1']);
  });

  it('keeps one command in flight: the second is written only after the first is answered', async () => {
    const order: string[] = [];
    handler = (line, say) => {
      order.push(`module got ${line}`);
      setTimeout(() => {
        order.push(`module answers ${line}`);
        say('\r\nOK\r\n');
      }, 30);
    };
    await Promise.all([channel.sendOk('AT+ONE'), channel.sendOk('AT+TWO')]);
    expect(order).toEqual(['module got AT+ONE', 'module answers AT+ONE', 'module got AT+TWO', 'module answers AT+TWO']);
  });

  it('a command without a final result fails with a typed timeout, and the next command still works', async () => {
    handler = (line, say) => line !== 'AT+HANG' && say('\r\nOK\r\n');
    const err = await channel.send('AT+HANG', { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtError);
    expect(err).toMatchObject({ atCode: 'timeout', code: 'at-timeout', command: 'AT+HANG' });
    expect((await channel.send('AT')).ok).toBe(true);
  });

  it('module errors are typed values with the code and its meaning', async () => {
    channel.setProfile(getProfile('sim7600'));
    handler = (_l, say) => say('\r\n+CME ERROR: 10\r\n');
    const res = await channel.send('AT+CPIN?');
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ atCode: 'cme', moduleCode: '10', meaning: 'SIM not inserted' });
  });

  it('routes a URC that arrives mid-command to subscribers, not into the answer', async () => {
    const urcs: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => urcs.push(l.text.trim()));
    handler = (_l, say) => say('\r\nAT version:2.2.0.0\r\n\r\nWIFI DISCONNECT\r\n\r\nSDK version:v4.2\r\n\r\nOK\r\n');
    const res = await channel.sendOk('AT+GMR');
    expect(res.lines).toEqual(['AT version:2.2.0.0', 'SDK version:v4.2']);
    expect(urcs).toEqual(['WIFI DISCONNECT']);
  });

  it('+CREG: answering AT+CREG? is the response; the same line unsolicited is a URC', async () => {
    channel.setProfile(getProfile('sim7600'));
    const urcs: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => urcs.push(l.text.trim()));
    handler = (_l, say) => say('\r\n+CREG: 0,1\r\n\r\nOK\r\n');
    const res = await channel.sendOk('AT+CREG?');
    expect(res.lines).toEqual(['+CREG: 0,1']);
    expect(urcs).toEqual([]);
    const next = new Promise<string>((resolve) => channel.once('urc', (l: ClassifiedLine) => resolve(l.text.trim())));
    await module.write(Buffer.from('\r\n+CREG: 2\r\n'));
    expect(await next).toBe('+CREG: 2');
  });

  it('busy p... means "not taken": the command is sent again', async () => {
    let tries = 0;
    handler = (_l, say) => say(++tries < 3 ? '\r\nbusy p...\r\n' : '\r\nOK\r\n');
    const res = await channel.sendOk('AT+CIPSTATUS');
    expect(tries).toBe(3);
    expect(seen).toEqual(['AT+CIPSTATUS', 'AT+CIPSTATUS', 'AT+CIPSTATUS']);
    expect(res.lines.filter((l) => l.startsWith('busy'))).toHaveLength(2);
  });

  it('waits the settle time after a final, so a URC sent right after OK is heard before the next command goes out', async () => {
    const events: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => events.push(`host heard ${l.text.trim()}`));
    handler = (line, say) => {
      events.push(`module got ${line}`);
      say('\r\nOK\r\n');
      if (line === 'AT+FIRST') setTimeout(() => say('\r\nWIFI GOT IP\r\n'), 3);
    };
    await Promise.all([channel.sendOk('AT+FIRST'), channel.sendOk('AT+SECOND')]);
    expect(events).toEqual(['module got AT+FIRST', 'host heard WIFI GOT IP', 'module got AT+SECOND']);
  });

  it.each([['> '], ['>']])('writes the data at the %j prompt and waits for SEND OK', async (prompt) => {
    let payload = '';
    handler = (line, say) => {
      if (line.startsWith('AT+CIPSEND=')) {
        rawSink = (chunk: Buffer) => {
          payload += chunk.toString('latin1');
          if (payload.length >= 6) {
            rawSink = undefined;
            say('\r\nRecv 6 bytes\r\n\r\nSEND OK\r\n');
          }
        };
        say(`\r\nOK\r\n\r\n${prompt}`);
      }
    };
    const res = await channel.send('AT+CIPSEND=6', {
      prompt: true,
      data: Buffer.from('\r\nOK\r\n', 'latin1'),
      dataFinals: [{ pattern: '^SEND OK$', outcome: 'ok' }, { pattern: '^SEND FAIL$', outcome: 'error' }],
    });
    expect(res.ok).toBe(true);
    expect(res.final).toBe('SEND OK');
    expect(payload).toBe('\r\nOK\r\n');
  });

  it('delivers +IPD binary blocks byte-exact, even mid-command and holding CR LF and OK', async () => {
    const blocks: Buffer[] = [];
    channel.on('block', (b: { data: Buffer }) => blocks.push(b.data));
    const binary = Buffer.from([0x10, 0x0d, 0x0a, 0x4f, 0x4b, 0x0d, 0x0a, 0x00, 0xff]);
    handler = (_l, say) => {
      say('\r\n+IPD,9:');
      void module.write(binary);
      say('\r\nOK\r\n');
    };
    await channel.sendOk('AT+CIPSTATUS');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.equals(binary)).toBe(true);
  });
});
