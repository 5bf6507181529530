import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtChannel, type AtChannelOptions } from '../../src/at/channel.js';
import type { ClassifiedLine } from '../../src/at/classify.js';
import { AtError } from '../../src/at/errors.js';
import { getProfile } from '../../src/profile/index.js';
import { startScriptedModule, type ScriptedModule } from '../helpers/scripted-module.js';

/**
 * The command API over a real pseudo-terminal with the real serialport package: the test plays
 * the module on the other end, line by line (test/helpers/scripted-module.ts), so each rule of the
 * channel is seen on real bytes.
 */
let mod: ScriptedModule;
let channel: AtChannel;

beforeEach(async () => {
  mod = await startScriptedModule({ echo: true });
  channel = new AtChannel(mod.host, getProfile('esp-at'), { busyRetryMs: 30 });
});

/** Replaces the channel (another profile or other options) on the same port. */
function rechannel(profile: 'sim7600' | 'esp-at', options: AtChannelOptions = {}): AtChannel {
  channel.detach();
  channel = new AtChannel(mod.host, getProfile(profile), { busyRetryMs: 30, ...options });
  return channel;
}
/** Resolves once `test` holds (polled); the tests wait for events, never assert on time. */
async function until(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!test()) throw new Error(`never happened: ${what}`);
}

afterEach(async () => {
  channel.detach();
  await mod.close();
});

describe('AtChannel over a real pty', () => {
  it('collects information lines and removes the echo, with echo on and off', async () => {
    mod.handler = (line, say) => line === 'AT+CWMODE?' && say('\r\n+CWMODE:1\r\n\r\nOK\r\n');
    const on = await channel.sendOk('AT+CWMODE?');
    expect(on.lines).toEqual(['+CWMODE:1']);
    mod.echo = false;
    const off = await channel.sendOk('AT+CWMODE?');
    expect(off.lines).toEqual(['+CWMODE:1']);
  });

  it('keeps one command in flight: the second is written only after the first is answered', async () => {
    const order: string[] = [];
    mod.handler = (line, say) => {
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
    mod.handler = (line, say) => line !== 'AT+HANG' && say('\r\nOK\r\n');
    const err = await channel.send('AT+HANG', { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtError);
    expect(err).toMatchObject({ atCode: 'timeout', code: 'at-timeout', command: 'AT+HANG' });
    expect((await channel.send('AT')).ok).toBe(true);
  });

  it('after a timeout the late final does not answer the next command: one AT resync, then quiet', async () => {
    let late = false;
    mod.handler = (line, say) => {
      if (line === 'AT+SLOW' || line === 'AT+PROBE') return void (late = line === 'AT+SLOW');
      // The module finishes AT+SLOW just as the next command arrives: its OK comes first.
      if (late) say('\r\nOK\r\n');
      late = false;
      say(line === 'AT+CSQ' ? '\r\n+CSQ: 20,99\r\n\r\nOK\r\n' : '\r\nOK\r\n');
    };
    const resyncs: string[] = [];
    channel.on('resync', (after: string) => resyncs.push(after));
    await expect(channel.send('AT+SLOW', { timeoutMs: 150 })).rejects.toMatchObject({ atCode: 'timeout' });
    expect((await channel.sendOk('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    expect(mod.seen).toEqual(['AT+SLOW', 'AT', 'AT+CSQ']);
    expect(resyncs).toEqual(['AT+SLOW']);
    // A probe that times out (resyncAfterTimeout: false) costs no resync.
    await expect(channel.send('AT+PROBE', { timeoutMs: 100, resyncAfterTimeout: false })).rejects.toMatchObject({ atCode: 'timeout' });
    expect((await channel.sendOk('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    expect(mod.seen.slice(3)).toEqual(['AT+PROBE', 'AT+CSQ']);
  });

  it('the quiet after a resync lasts while the module keeps talking: a slow second OK is not the next answer', async () => {
    // The module's gaps (500 ms) are well inside the quiet (900 ms), a margin a loaded machine's timers keep;
    // the whole reply (1 s) outlasts one quiet, so a quiet that is not extended fails; all under the 2 s cap.
    rechannel('esp-at', { resyncQuietMs: 900 });
    mod.echo = false;
    let late = false;
    /** The module answers in order: nothing new before it has finished the resync. */
    let busyUntil = 0;
    mod.handler = (line, say) => {
      if (line === 'AT+SLOW') return void (late = true);
      if (line === 'AT' && late) {
        late = false;
        // AT+SLOW's late OK at once, then the resync's own echo and OK, 500 ms apart (a slow module).
        say('\r\nOK\r\n');
        setTimeout(() => say('AT\r'), 500);
        setTimeout(() => say('\r\nOK\r\n'), 1000);
        busyUntil = performance.now() + 1010;
        return;
      }
      const answer = line === 'AT+CSQ' ? '\r\n+CSQ: 20,99\r\n\r\nOK\r\n' : '\r\nOK\r\n';
      setTimeout(() => say(answer), Math.max(0, busyUntil - performance.now()));
    };
    await expect(channel.send('AT+SLOW', { timeoutMs: 150 })).rejects.toMatchObject({ atCode: 'timeout' });
    expect((await channel.sendOk('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
  });

  it('module errors are typed values with the code and its meaning', async () => {
    channel.setProfile(getProfile('sim7600'));
    mod.handler = (_l, say) => say('\r\n+CME ERROR: 10\r\n');
    const res = await channel.send('AT+CPIN?');
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ atCode: 'cme', moduleCode: '10', meaning: 'SIM not inserted' });
  });

  it('routes a URC that arrives mid-command to subscribers, not into the answer', async () => {
    const urcs: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => urcs.push(l.text.trim()));
    mod.handler = (_l, say) => say('\r\nAT version:2.2.0.0\r\n\r\nWIFI DISCONNECT\r\n\r\nSDK version:v4.2\r\n\r\nOK\r\n');
    const res = await channel.sendOk('AT+GMR');
    expect(res.lines).toEqual(['AT version:2.2.0.0', 'SDK version:v4.2']);
    expect(urcs).toEqual(['WIFI DISCONNECT']);
  });

  it('+CREG: answering AT+CREG? is the response; the same line unsolicited is a URC', async () => {
    channel.setProfile(getProfile('sim7600'));
    const urcs: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => urcs.push(l.text.trim()));
    mod.handler = (_l, say) => say('\r\n+CREG: 0,1\r\n\r\nOK\r\n');
    const res = await channel.sendOk('AT+CREG?');
    expect(res.lines).toEqual(['+CREG: 0,1']);
    expect(urcs).toEqual([]);
    const next = new Promise<string>((resolve) => channel.once('urc', (l: ClassifiedLine) => resolve(l.text.trim())));
    await mod.module.write(Buffer.from('\r\n+CREG: 2\r\n'));
    expect(await next).toBe('+CREG: 2');
  });

  it('busy p... means "not taken": the command is sent again', async () => {
    let tries = 0;
    mod.handler = (_l, say) => say(++tries < 3 ? '\r\nbusy p...\r\n' : '\r\nOK\r\n');
    const res = await channel.sendOk('AT+CIPSTATUS');
    expect(tries).toBe(3);
    expect(mod.seen).toEqual(['AT+CIPSTATUS', 'AT+CIPSTATUS', 'AT+CIPSTATUS']);
    expect(res.lines.filter((l) => l.startsWith('busy'))).toHaveLength(2);
  });

  it('waits the settle time after a final, so a URC sent right after OK is heard before the next command goes out', async () => {
    const events: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => events.push(`host heard ${l.text.trim()}`));
    mod.handler = (line, say) => {
      events.push(`module got ${line}`);
      say('\r\nOK\r\n');
      if (line === 'AT+FIRST') setTimeout(() => say('\r\nWIFI GOT IP\r\n'), 3);
    };
    await Promise.all([channel.sendOk('AT+FIRST'), channel.sendOk('AT+SECOND')]);
    expect(events).toEqual(['module got AT+FIRST', 'host heard WIFI GOT IP', 'module got AT+SECOND']);
  });

  it.each([['> '], ['>']])('writes the data at the %j prompt and waits for SEND OK', async (prompt) => {
    let payload = '';
    mod.handler = (line, say) => {
      if (line.startsWith('AT+CIPSEND=')) {
        mod.rawSink = (chunk: Buffer) => {
          payload += chunk.toString('latin1');
          if (payload.length >= 6) {
            mod.rawSink = undefined;
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
    mod.handler = (_l, say) => {
      say('\r\n+IPD,9:');
      void mod.module.write(binary);
      say('\r\nOK\r\n');
    };
    await channel.sendOk('AT+CIPSTATUS');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.equals(binary)).toBe(true);
  });

  it('writes each command with the profile line ending: CR for SIM7600, CR LF for ESP-AT', async () => {
    const bytes: Buffer[] = [];
    mod.module.on('data', (c: Buffer) => bytes.push(c));
    await channel.sendOk('AT+CWMODE?');
    rechannel('sim7600');
    await channel.sendOk('AT+CSQ');
    expect(Buffer.concat(bytes).toString('latin1')).toBe('AT+CWMODE?\r\nAT+CSQ\r');
  });

  it('module errors are typed: ERROR, +CMS ERROR: n, NO CARRIER', async () => {
    rechannel('sim7600');
    const answers: Record<string, string> = { 'AT+A': 'ERROR', 'AT+CMGS=1': '+CMS ERROR: 500', ATD1: 'NO CARRIER' };
    mod.handler = (line, reply) => reply(`\r\n${answers[line]}\r\n`);
    const plain = await channel.send('AT+A');
    expect(plain).toMatchObject({ ok: false, outcome: 'error', final: 'ERROR', error: { atCode: 'error', code: 'at-error' } });
    const cms = await channel.send('AT+CMGS=1');
    expect(cms.error).toMatchObject({ atCode: 'cms', moduleCode: '500' });
    expect(cms.error!.message).toContain('+CMS ERROR: 500');
    const nc = await channel.send('ATD1');
    expect(nc).toMatchObject({ outcome: 'no-carrier', error: { atCode: 'no-carrier' } });
    await expect(channel.sendOk('AT+A')).rejects.toMatchObject({ atCode: 'error', command: 'AT+A' });
  });

  it('a URC glued to the echo of the command (+NETOPEN: 0AT+IPADDR) is split: URC to subscribers, echo removed', async () => {
    rechannel('sim7600');
    mod.echo = false;
    const urcs: string[] = [];
    channel.on('urc', (l: ClassifiedLine) => urcs.push(l.text.trim()));
    mod.handler = (line, reply) => reply(`\r\n+NETOPEN: 0${line}\r\r\n+IPADDR: 10.17.51.118\r\n\r\nOK\r\n`);
    const res = await channel.sendOk('AT+IPADDR');
    expect(res.lines).toEqual(['+IPADDR: 10.17.51.118']);
    expect(urcs).toEqual(['+NETOPEN: 0']);
  });

  it('waits for the result URC a command asks for (+NETOPEN after OK), before or after the OK', async () => {
    rechannel('sim7600');
    const awaitUrc = { pattern: /^\+NETOPEN: ?(?<err>\d+)$/, timeoutMs: 2000 };
    mod.handler = (_l, reply) => {
      reply('\r\nOK\r\n');
      setTimeout(() => reply('\r\n+NETOPEN: 0\r\n'), 40);
    };
    const after = await channel.sendOk('AT+NETOPEN', { awaitUrc });
    expect(after.urc).toEqual({ line: '+NETOPEN: 0', groups: { err: '0' } });
    mod.handler = (_l, reply) => reply('\r\n+NETOPEN: 1\r\n\r\nOK\r\n');
    const before = await channel.sendOk('AT+NETOPEN', { awaitUrc });
    expect(before.urc?.groups).toEqual({ err: '1' });
    mod.handler = (_l, reply) => reply('\r\nOK\r\n');
    await expect(channel.send('AT+NETOPEN', { awaitUrc: { ...awaitUrc, timeoutMs: 100 } })).rejects.toMatchObject({ atCode: 'urc-timeout' });
  });

  it('a busy module that stays busy fails with module-busy; with retryBusy off the command is written once', async () => {
    rechannel('esp-at', { busyRetryMs: 20, busyBudgetMs: 150 });
    mod.handler = (_l, reply) => reply('\r\nbusy p...\r\n');
    const err = await channel.send('AT+CIPSTART="TCP","10.0.0.1",1883').catch((e: unknown) => e);
    expect(err).toMatchObject({ atCode: 'module-busy', code: 'at-module-busy' });
    expect(mod.seen.length).toBeGreaterThan(2);
    mod.seen.length = 0;
    mod.handler = (_l, reply) => {
      reply('\r\nbusy p...\r\n');
      setTimeout(() => reply('\r\nERROR\r\n'), 80);
    };
    const res = await channel.send('AT+CWJAP?', { retryBusy: false });
    expect(mod.seen).toEqual(['AT+CWJAP?']);
    expect(res).toMatchObject({ ok: false, lines: ['busy p...'] });
  });

  it('cancelling: a queued command leaves the queue unsent, a command in flight fails with aborted', async () => {
    mod.handler = (line, reply) => line !== 'AT+SLOW' && reply('\r\nOK\r\n');
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = channel.send('AT+SLOW', { signal: inFlight.signal, timeoutMs: 5000 }).catch((e: unknown) => e);
    const second = channel.send('AT+NEVER', { signal: queued.signal }).catch((e: unknown) => e);
    const third = channel.send('AT+THIRD');
    await until(() => mod.seen.includes('AT+SLOW'), 'AT+SLOW written');
    queued.abort();
    expect(await second).toMatchObject({ atCode: 'aborted', command: 'AT+NEVER' });
    inFlight.abort();
    expect(await first).toMatchObject({ atCode: 'aborted', command: 'AT+SLOW' });
    expect((await third).ok).toBe(true);
    expect(mod.seen).toEqual(['AT+SLOW', 'AT', 'AT+THIRD']); // a resync: the module may still answer AT+SLOW
  });

  it('garbage from the module never hangs the queue: the command still ends at its final, the next one works', async () => {
    let seed = 3;
    const junk = Buffer.from(Array.from({ length: 3000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24)));
    mod.handler = (line, reply) => {
      if (line === 'AT+JUNK') void mod.module.write(junk);
      reply('\r\nOK\r\n');
    };
    expect((await channel.send('AT+JUNK', { timeoutMs: 3000 })).ok).toBe(true);
    expect((await channel.send('AT')).ok).toBe(true);
  });

  it('consecutive timeouts are counted and reported dead at the limit; an answer resets the count', async () => {
    rechannel('esp-at', { deadAfterTimeouts: 2 });
    const dead: number[] = [];
    channel.on('dead', (n: number) => dead.push(n));
    mod.handler = () => undefined;
    await channel.send('AT', { timeoutMs: 60 }).catch(() => undefined);
    expect(channel.timeoutsInARow).toBe(1);
    await channel.send('AT', { timeoutMs: 60 }).catch(() => undefined);
    expect(dead).toEqual([2]);
    mod.handler = (_l, reply) => reply('\r\nOK\r\n');
    await channel.sendOk('AT');
    expect(channel.timeoutsInARow).toBe(0);
  });

  it('probes that time out (a baud scan into silence) never count toward dead', async () => {
    rechannel('esp-at', { deadAfterTimeouts: 2 });
    const dead: number[] = [];
    channel.on('dead', (n: number) => dead.push(n));
    mod.handler = () => undefined;
    for (let i = 0; i < 3; i++) await channel.send('AT', { timeoutMs: 40, resyncAfterTimeout: false }).catch(() => undefined);
    expect(channel.timeoutsInARow).toBe(0);
    expect(dead).toEqual([]);
  });

  it('a module that answers the resync AT but times out every real command still counts toward dead', async () => {
    rechannel('esp-at', { deadAfterTimeouts: 2 });
    const dead: number[] = [];
    channel.on('dead', (n: number) => dead.push(n));
    mod.handler = (line, say) => line === 'AT' && say('\r\nOK\r\n');
    await expect(channel.send('AT+CIPSTATUS', { timeoutMs: 80 })).rejects.toMatchObject({ atCode: 'timeout' });
    await expect(channel.send('AT+CIPSTATUS', { timeoutMs: 80 })).rejects.toMatchObject({ atCode: 'timeout' });
    expect(mod.seen).toEqual(['AT+CIPSTATUS', 'AT', 'AT+CIPSTATUS']);
    expect(dead).toEqual([2]);
  });

  it('the link closing fails the command in flight and the queued ones with link-closed', async () => {
    mod.handler = () => undefined;
    const first = channel.send('AT+WAIT', { timeoutMs: 5000 }).catch((e: unknown) => e);
    const second = channel.send('AT+NEXT').catch((e: unknown) => e);
    await until(() => mod.seen.includes('AT+WAIT'), 'AT+WAIT written');
    await mod.host.close();
    expect(await first).toMatchObject({ atCode: 'link-closed' });
    expect(await second).toMatchObject({ atCode: 'link-closed' });
    await expect(channel.send('AT')).rejects.toMatchObject({ atCode: 'link-closed' });
  });

  it('SEND FAIL ends the data phase as a typed send failure', async () => {
    mod.handler = (line, reply) => {
      if (!line.startsWith('AT+CIPSEND=')) return;
      mod.rawSink = () => {
        mod.rawSink = undefined;
        reply('\r\nRecv 3 bytes\r\n\r\nSEND FAIL\r\n');
      };
      reply('\r\nOK\r\n\r\n> ');
    };
    const res = await channel.send('AT+CIPSEND=3', { prompt: true, data: Buffer.from('abc'), dataFinals: getProfile('esp-at').command('socketSend').dataFinals! });
    expect(res).toMatchObject({ ok: false, final: 'SEND FAIL', error: { atCode: 'send-failed' } });
  });

  it('CONNECT switches to data mode when asked: bytes then pass as data, and commands wait until it ends', async () => {
    rechannel('sim7600');
    const data: Buffer[] = [];
    channel.on('data', (c: Buffer) => data.push(c));
    const payload = Buffer.from([0x20, 0x02, 0x00, 0x00, 0x0d, 0x0a, 0x4f, 0x4b]);
    mod.handler = (_l, reply) => {
      reply('\r\nCONNECT 115200\r\n');
      setTimeout(() => void mod.module.write(payload), 20);
    };
    const finals = getProfile('sim7600').command('socketOpenTransparent').finals!;
    const res = await channel.send('AT+CIPOPEN=0,"TCP","10.0.0.1",1883', { finals, enterDataMode: true });
    expect(res).toMatchObject({ ok: true, outcome: 'connect', groups: { rate: '115200' } });
    expect(channel.inDataMode).toBe(true);
    mod.handler = (_l, reply) => reply('\r\nOK\r\n');
    const later = channel.send('AT+CSQ');
    await until(() => Buffer.concat(data).length >= payload.length, 'payload as data');
    expect(Buffer.concat(data).equals(payload)).toBe(true);
    expect(mod.seen).toEqual(['AT+CIPOPEN=0,"TCP","10.0.0.1",1883']);
    channel.leaveDataMode();
    expect((await later).ok).toBe(true);
  });

  it('a CIPRXGET read collects its binary block in the answer', async () => {
    rechannel('sim7600');
    const connack = Buffer.from([0x20, 0x02, 0x0d, 0x0a]);
    const pushed: unknown[] = [];
    channel.on('block', (b) => pushed.push(b));
    mod.handler = (_l, reply) => {
      reply('\r\n+CIPRXGET: 2,0,4,0\r\n');
      void mod.module.write(connack);
      reply('\r\nOK\r\n');
    };
    const res = await channel.sendOk('AT+CIPRXGET=2,0,4');
    expect(res.blocks).toHaveLength(1);
    expect(res.blocks[0]!.data.equals(connack)).toBe(true);
    expect(res.lines).toEqual(['+CIPRXGET: 2,0,4,0']);
    expect(pushed).toEqual([]);
  });
});
